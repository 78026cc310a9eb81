package dev.lbrvmm.vmm.cpu;

/** Why {@link Cpu#run(long)} returned. */
public enum CpuExit {
    /** The instruction budget of this call was used up. */
    BUDGET,
    /** {@link Cpu#requestStop()} was called. */
    STOPPED,
    /** OUT executed: see {@link Cpu#ioPort()}, {@link Cpu#ioSize()}, {@link Cpu#ioValue()}. */
    IO_OUT,
    /** IN executed: the VMM must call {@link Cpu#completeIn(long)} before the next run. */
    IO_IN,
    /** HLT executed. */
    HLT,
    /** Triple fault: the vCPU is shut down; {@link Cpu#shutdownReason()} says why. */
    SHUTDOWN,
    /** SYSCALL with IA32_LSTAR = 0: left to the VMM's Linux system-call shim. */
    SYSCALL,
    /** An interpreter defect; the vCPU stops, the VMM keeps running. */
    INTERNAL_ERROR
}
