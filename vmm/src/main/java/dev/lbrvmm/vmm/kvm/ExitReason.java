package dev.lbrvmm.vmm.kvm;

/** VM exit reasons the accounting distinguishes. */
public enum ExitReason {
    IO, HLT, MSR_READ, MSR_WRITE, PREEMPTION, SYSCALL, SHUTDOWN, STOP, INTERNAL_ERROR
}
