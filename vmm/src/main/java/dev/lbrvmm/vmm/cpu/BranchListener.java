package dev.lbrvmm.vmm.cpu;

/**
 * The single hook every branch goes through: taken branches (jcc, jmp, call, ret, far transfers,
 * interrupts and exceptions) and, for branch predictors, conditional branches that fell through.
 * The LBR unit, tracers and profilers attach here. With no listener attached the interpreter
 * only tests a null field.
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

    /** A conditional branch (Jcc, LOOPcc, JRCXZ) at {@code from} was not taken. */
    default void onNotTaken(long from) {
    }
}
