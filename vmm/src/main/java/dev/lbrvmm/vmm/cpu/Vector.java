package dev.lbrvmm.vmm.cpu;

/** x86 exception vectors the interpreter raises. */
public final class Vector {
    private Vector() {}

    public static final int DE = 0;
    public static final int DB = 1;
    public static final int BP = 3;
    public static final int UD = 6;
    public static final int DF = 8;
    public static final int NP = 11;
    public static final int SS = 12;
    public static final int GP = 13;
    public static final int PF = 14;

    public static String name(int v) {
        return switch (v) {
            case DE -> "#DE (divide error)";
            case DB -> "#DB (debug)";
            case BP -> "#BP (breakpoint)";
            case UD -> "#UD (invalid opcode)";
            case DF -> "#DF (double fault)";
            case NP -> "#NP (segment not present)";
            case SS -> "#SS (stack fault)";
            case GP -> "#GP (general protection)";
            case PF -> "#PF (page fault)";
            default -> "vector " + v;
        };
    }

    /** Vectors that push an error code. */
    public static boolean hasErrorCode(int v) {
        return v == DF || v == 10 || v == NP || v == SS || v == GP || v == PF || v == 17;
    }
}
