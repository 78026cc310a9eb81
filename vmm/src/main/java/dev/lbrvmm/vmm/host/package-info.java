/**
 * The host kernel: physical CPUs (each owning an LBR unit), tasks (vCPU threads and branchy host
 * workloads), a deterministic scheduler with affinity and migration, and perf's LBR events with
 * their priorities and the call-stack context-switch save/restore (perf's lbr.c).
 *
 * <p>May use: {@code cpu}. Never {@code kvm}, {@code machine} or the monitor.
 */
package dev.lbrvmm.vmm.host;
