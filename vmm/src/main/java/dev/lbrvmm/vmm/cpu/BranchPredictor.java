package dev.lbrvmm.vmm.cpu;

/**
 * A small, deterministic branch predictor so that the LBR MISPRED bit means something:
 * 2-bit saturating counters for conditional branches (4096, indexed by source address), a
 * direct-mapped target buffer for indirect jumps and calls (1024 entries, last target), and a
 * 16-entry return stack for returns. Direct jumps and calls are always predicted; far transfers
 * (interrupts, exceptions, SYSCALL, IRET) always count as mispredicted.
 *
 * <p>The branch hook reports a call's own address, not its length, so the return stack keeps call
 * sites: a return is predicted when it lands 1 to 15 bytes (one instruction at most) after the
 * call site on top of the stack, which is exactly the case for ordinary call/return pairs.
 */
public final class BranchPredictor {
    private static final int PHT = 4096;
    private static final int BTB = 1024;
    private static final int RSB = 16;

    private final byte[] counters = new byte[PHT];
    private final long[] btbTag = new long[BTB];
    private final long[] btbTarget = new long[BTB];
    private final long[] returnStack = new long[RSB];
    private int rsbTop;

    public BranchPredictor() {
        java.util.Arrays.fill(counters, (byte) 1); // weakly not-taken
    }

    private static int pht(long from) {
        return (int) (from ^ (from >>> 12)) & (PHT - 1);
    }

    /** A conditional branch was not taken; returns true if that was mispredicted. */
    public boolean notTaken(long from) {
        int i = pht(from);
        int c = counters[i];
        if (c > 0) {
            counters[i] = (byte) (c - 1);
        }
        return c >= 2;
    }

    /** A taken branch of class {@code kind} (a {@code BranchKind.K_*} constant); true if mispredicted. */
    public boolean taken(long from, long to, int kind) {
        return switch (kind) {
            case BranchKind.K_CONDITIONAL -> conditionalTaken(from);
            case BranchKind.K_NEAR_REL_JMP -> false;
            case BranchKind.K_NEAR_REL_CALL -> directCall(from);
            case BranchKind.K_NEAR_IND_CALL -> indirectCall(from, to);
            case BranchKind.K_NEAR_IND_JMP -> indirectJump(from, to);
            case BranchKind.K_NEAR_RET -> nearReturn(to);
            default -> true; // FAR
        };
    }

    // One method per kind, each only the work its kind needs: translated code calls the one its
    // branch is (LbrUnit's per-kind entries), so nothing is decided per branch at run time.

    /** A conditional branch taken; true if mispredicted. */
    boolean conditionalTaken(long from) {
        int i = pht(from);
        int c = counters[i];
        if (c < 3) {
            counters[i] = (byte) (c + 1);
        }
        return c < 2;
    }

    /** A direct call: always predicted; the call site goes on the return stack. */
    boolean directCall(long from) {
        push(from);
        return false;
    }

    boolean indirectCall(long from, long to) {
        push(from);
        return indirect(from, to);
    }

    boolean indirectJump(long from, long to) {
        return indirect(from, to);
    }

    /** A near return, predicted when it lands one instruction after the call site on top of the return stack. */
    boolean nearReturn(long to) {
        rsbTop = (rsbTop - 1) & (RSB - 1);
        long distance = to - returnStack[rsbTop];
        return distance <= 0 || distance > Decoder.MAX_LEN;
    }

    private void push(long callSite) {
        returnStack[rsbTop] = callSite;
        rsbTop = (rsbTop + 1) & (RSB - 1);
    }

    private boolean indirect(long from, long to) {
        int i = (int) (from ^ (from >>> 10)) & (BTB - 1);
        boolean hit = btbTag[i] == from && btbTarget[i] == to;
        btbTag[i] = from;
        btbTarget[i] = to;
        return !hit;
    }
}
