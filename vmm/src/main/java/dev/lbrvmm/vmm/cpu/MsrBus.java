package dev.lbrvmm.vmm.cpu;

/**
 * Where RDMSR/WRMSR executed by the guest go. The hypervisor layer installs its own bus (MSR
 * bitmap: trap or pass through); the CPU's own architectural MSRs are reachable through
 * {@link Cpu#readCoreMsr(int)} / {@link Cpu#writeCoreMsr(int, long)}.
 * Implementations raise #GP by throwing {@link CpuFault#gp()}.
 */
public interface MsrBus {
    long read(int index);

    void write(int index, long value);
}
