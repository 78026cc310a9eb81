/**
 * QMP protocol library: framing, sessions, command registry and generic dispatcher, events,
 * Netty server, client and shell. It knows nothing about machines; the VMM registers its commands.
 */
package dev.lbrvmm.monitor;
