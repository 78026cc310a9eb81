package dev.lbrvmm.vmm.cpu;

/**
 * The single hook every taken branch goes through (jcc, jmp, call, ret, far transfers,
 * interrupts and exceptions). The LBR unit, tracers and profilers attach here.
 */
@FunctionalInterface
public interface BranchListener {
    /**
     * @param from address of the branch instruction (for a fault or trap: the address pushed)
     * @param to   address the branch transfers control to
     * @param kind branch class
     * @param cpl  privilege level at which the branch executed
     */
    void onBranch(long from, long to, BranchKind kind, int cpl);
}
