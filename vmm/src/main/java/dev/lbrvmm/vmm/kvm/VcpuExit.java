package dev.lbrvmm.vmm.kvm;

/** Why {@link Vcpu#run(long)} returned to userspace (KVM's exit reasons, as records). */
public sealed interface VcpuExit {
    /** Port I/O: for OUT, {@code value} holds the data; for IN, userspace answers with {@link Vcpu#completeIn(long)}. */
    record Io(boolean in, int port, int size, long value) implements VcpuExit {}

    /** OUTS (KVM_EXIT_IO with io.count > 1): {@code data} holds the elements, {@code size} bytes each. */
    record IoOutString(int port, int size, byte[] data) implements VcpuExit {}

    /** HLT executed (KVM_EXIT_HLT with an in-userspace irqchip). */
    record Hlt() implements VcpuExit {}

    /** Triple fault or another reason the vCPU cannot go on (KVM_EXIT_SHUTDOWN). */
    record Shutdown(String reason) implements VcpuExit {}

    /** SYSCALL with no IA32_LSTAR programmed: handed to the VMM's Linux system-call shim. */
    record Syscall() implements VcpuExit {}

    /** The run's instruction budget (the scheduler's time slice) ended (KVM_EXIT_INTR). */
    record Preempted() implements VcpuExit {}

    /** Someone asked the vCPU to stop (the monitor's {@code stop}). */
    record Stopped() implements VcpuExit {}

    /** The interpreter failed; the vCPU is dead but the VMM goes on (KVM_EXIT_INTERNAL_ERROR). */
    record InternalError(String reason) implements VcpuExit {}
}
