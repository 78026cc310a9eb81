package dev.lbrvmm.vmm.cpu;

/** Executor operations produced by the {@link Decoder}. Dense ints so the executor's switch is a table. */
public final class Op {
    private Op() {}

    public static final int UD = 0;            // raise #UD
    public static final int FETCH_FAULT = 1;   // instruction bytes outside memory: #PF at disp
    public static final int TOO_LONG = 2;      // more than 15 bytes: #GP
    public static final int NOP = 3;
    public static final int ALU_RM_R = 4;      // rm = rm (ext) reg
    public static final int ALU_R_RM = 5;      // reg = reg (ext) rm
    public static final int ALU_RM_I = 6;      // rm = rm (ext) imm
    public static final int TEST_RM_R = 7;
    public static final int TEST_RM_I = 8;
    public static final int MOV_RM_R = 9;
    public static final int MOV_R_RM = 10;
    public static final int MOV_RM_I = 11;
    public static final int MOVZX = 12;
    public static final int MOVSX = 13;
    public static final int LEA = 14;
    public static final int INC = 15;
    public static final int DEC = 16;
    public static final int NEG = 17;
    public static final int NOT = 18;
    public static final int MUL = 19;
    public static final int IMUL1 = 20;
    public static final int DIV = 21;
    public static final int IDIV = 22;
    public static final int IMUL_R_RM = 23;
    public static final int IMUL_R_RM_I = 24;
    public static final int CBW = 25;          // cbw/cwde/cdqe
    public static final int CWD = 26;          // cwd/cdq/cqo
    public static final int SHIFT_I = 27;      // ext = rol,ror,rcl,rcr,shl,shr,sal,sar
    public static final int SHIFT_CL = 28;
    public static final int SHLD = 29;         // ext 0 = imm count, 1 = CL
    public static final int SHRD = 30;
    public static final int SETCC = 31;
    public static final int CMOVCC = 32;
    public static final int BT_R = 33;         // ext 0 bt, 1 bts, 2 btr, 3 btc
    public static final int BT_I = 34;
    public static final int BSF = 35;
    public static final int BSR = 36;
    public static final int TZCNT = 37;
    public static final int LZCNT = 38;
    public static final int POPCNT = 39;
    public static final int BSWAP = 40;
    public static final int XCHG = 41;
    public static final int XADD = 42;
    public static final int CMPXCHG = 43;
    public static final int PUSH_R = 44;
    public static final int POP_R = 45;
    public static final int PUSH_I = 46;
    public static final int PUSH_RM = 47;
    public static final int POP_RM = 48;
    public static final int PUSHF = 49;
    public static final int POPF = 50;
    public static final int CALL_REL = 51;
    public static final int CALL_RM = 52;
    public static final int RET = 53;
    public static final int RET_I = 54;
    public static final int JMP_REL = 55;
    public static final int JMP_RM = 56;
    public static final int JCC = 57;
    public static final int LOOP = 58;         // ext 0 loopne, 1 loope, 2 loop
    public static final int JRCXZ = 59;
    public static final int LEAVE = 60;
    public static final int ENTER = 61;
    public static final int MOVS = 62;         // ext = 0 none, 1 rep/repe, 2 repne
    public static final int STOS = 63;
    public static final int LODS = 64;
    public static final int SCAS = 65;
    public static final int CMPS = 66;
    public static final int CPUID = 67;
    public static final int RDMSR = 68;
    public static final int WRMSR = 69;
    public static final int RDTSC = 70;
    public static final int RDTSCP = 71;
    public static final int HLT = 72;
    public static final int IN = 73;           // ext 0 = imm port, 1 = DX
    public static final int OUT = 74;
    public static final int INT3 = 75;
    public static final int INT = 76;
    public static final int CLI = 77;
    public static final int STI = 78;
    public static final int CLC = 79;
    public static final int STC = 80;
    public static final int CMC = 81;
    public static final int CLD = 82;
    public static final int STD = 83;
    public static final int LAHF = 84;
    public static final int SAHF = 85;
    public static final int LIDT = 86;
    public static final int LGDT = 87;
    public static final int SIDT = 88;
    public static final int SGDT = 89;
    public static final int IRET = 90;
    public static final int SYSCALL = 91;
    public static final int SYSRET = 92;
    public static final int MOV_FROM_CR = 93;
    public static final int MOV_TO_CR = 94;
    public static final int MOV_FROM_SEG = 95;
    public static final int MOV_TO_SEG = 96;
    public static final int SWAPGS = 97;
    public static final int PAUSE = 98;
    public static final int OUTS = 99;         // ext 1 = rep; sets RIP itself (a REP resumes after each exit)
    public static final int JMP_FAR = 100;     // ljmp ptr16:32: imm = offset, imm2 = selector
    public static final int JMP_FAR_M = 101;   // ljmp m16:32 / m16:64 (FF /5)
    public static final int RET_FAR = 102;     // lret / lretq, imm = bytes to release
    public static final int LTR = 103;
    public static final int STR = 104;
    public static final int SLDT = 105;
    public static final int LLDT = 106;
    public static final int INVLPG = 107;
    public static final int X87 = 108;         // ext = (opcode & 7) << 3 | ModRM.reg; rm = ST(i)
    public static final int RDPMC = 109;
    public static final int COUNT = 110;

    private static final String[] NAMES = new String[COUNT];

    static {
        for (java.lang.reflect.Field f : Op.class.getFields()) {
            if (f.getType() == int.class && !f.getName().equals("COUNT")) {
                try {
                    NAMES[f.getInt(null)] = f.getName().toLowerCase(java.util.Locale.ROOT);
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    public static String name(int op) {
        return op >= 0 && op < COUNT && NAMES[op] != null ? NAMES[op] : "op" + op;
    }

    /** True for ops that transfer control (and so report to the branch hook when taken). */
    public static boolean isBranch(int op) {
        return switch (op) {
            case CALL_REL, CALL_RM, RET, RET_I, JMP_REL, JMP_RM, JCC, LOOP, JRCXZ, INT3, INT, IRET, SYSCALL, SYSRET, JMP_FAR, JMP_FAR_M,
                    RET_FAR -> true;
            default -> false;
        };
    }
}
