package dev.lbrvmm.vmm.cpu;

/**
 * Classes of taken branches, matching the LBR_SELECT filter classes (spec §2.4).
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

    public static BranchKind of(int ordinal) {
        return VALUES[ordinal];
    }
}
