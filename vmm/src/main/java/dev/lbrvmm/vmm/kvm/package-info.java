/**
 * The hypervisor, shaped like KVM's API: capabilities, the VM, vCPUs with their run loop and
 * exits, host-initiated MSR access, the MSR bitmap, the vPMU, the guest-LBR state and the four
 * guest-LBR policies, and the accounting of what they cost (docs/design.md).
 *
 * <p>May use: {@code cpu} and {@code host}. Never {@code machine} (userspace drives KVM, not the
 * other way round), the monitor, Netty or Jackson.
 */
package dev.lbrvmm.vmm.kvm;
