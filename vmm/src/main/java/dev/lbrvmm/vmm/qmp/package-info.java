/**
 * The VMM's monitor: its QMP commands (declared once in VmmMonitor, one method each in
 * VmmCommands, replies as records in QmpReplies), HMP over the same methods, QOM properties,
 * events, and the LBR stack JSON that {@code --dump-lbr} writes (docs/monitor.md).
 *
 * <p>May use: every layer below, the monitor library and Jackson.
 */
package dev.lbrvmm.vmm.qmp;
