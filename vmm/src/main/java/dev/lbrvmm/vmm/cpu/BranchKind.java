package dev.lbrvmm.vmm.cpu;

/**
 * Classes of taken branches, matching the LBR_SELECT filter classes (SDM vol. 3B, MSR_LBR_SELECT).
 * LOOP/LOOPcc/JRCXZ are conditional; SYSCALL/SYSRET, INT n, IRET, interrupts and exceptions are far.
 */
public enum BranchKind {
    CONDITIONAL,
    NEAR_REL_JMP,
    NEAR_IND_JMP,
    NEAR_REL_CALL,
    NEAR_IND_CALL,
    NEAR_RET,
    FAR;

    private static final BranchKind[] VALUES = values();

    /** The ordinals as int constants, for the interpreter's hot path (folded by the JIT). */
    public static final int K_CONDITIONAL = 0, K_NEAR_REL_JMP = 1, K_NEAR_IND_JMP = 2, K_NEAR_REL_CALL = 3,
            K_NEAR_IND_CALL = 4, K_NEAR_RET = 5, K_FAR = 6;

    public static BranchKind of(int ordinal) {
        return VALUES[ordinal];
    }
}
