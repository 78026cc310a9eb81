/**
 * Userspace, as QEMU is to KVM: the guest config (one record per section), program loaders (ELF64,
 * flat), devices (COM1, isa-debug-exit), the Linux syscall shim, the machine built from a config,
 * its run states and the controller that runs it on its own thread.
 *
 * <p>May use: {@code cpu}, {@code host}, {@code kvm}, Typesafe Config, and the monitor library's
 * address syntax. Never Netty or Jackson directly.
 */
package dev.lbrvmm.vmm.machine;
