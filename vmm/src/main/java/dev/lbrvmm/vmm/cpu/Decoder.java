package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.OperandSize.MASK;

/**
 * x86-64 (64-bit mode) instruction decoder. Never throws: undecodable bytes become an
 * instruction that raises #UD, #GP (longer than 15 bytes) or #PF (fetch outside memory)
 * when executed, so faults are delivered to the guest at the right RIP.
 *
 * <p>Intel semantics where vendors differ: a 0x66 prefix on a near branch is ignored
 * (64-bit operand size), and F3 0F BC/BD decode as TZCNT/LZCNT.
 */
public final class Decoder {
    /** Architectural maximum instruction length. */
    public static final int MAX_LEN = 15;

    /** Group 3 (F6/F7) extensions. */
    private static final int G3_TEST = 0, G3_TEST_ALIAS = 1, G3_NOT = 2, G3_NEG = 3, G3_MUL = 4, G3_IMUL = 5, G3_DIV = 6;
    /** Group 5 (FF) extensions; 3 and 5 (far CALL/JMP through memory) and 7 are not supported. */
    private static final int G5_INC = 0, G5_DEC = 1, G5_CALL = 2, G5_JMP = 4, G5_JMP_FAR = 5, G5_PUSH = 6;
    /** Group 7 (0F 01) memory-form extensions. */
    private static final int G7_SGDT = 0, G7_SIDT = 1, G7_LGDT = 2, G7_LIDT = 3, G7_INVLPG = 7;
    /** Group 6 (0F 00) extensions. */
    private static final int G6_SLDT = 0, G6_STR = 1, G6_LLDT = 2, G6_LTR = 3;

    private final GuestMemory mem;
    /** The vCPU's translation for instruction fetches (null: addresses are physical). */
    private final Paging paging;
    /** 32-bit protected mode (CS.D = 1, not long mode): no REX, 32-bit stack and addresses. */
    private boolean mode32;
    // Per-decode scratch state (a decoder belongs to one vCPU's thread).
    private long start;
    private long pos;
    private int rex;
    private boolean ripRel;
    /** A LOCK (F0) prefix was seen. */
    private boolean lock;

    private static final class FetchFault extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final long address;
        final boolean tooLong;

        FetchFault(long address, boolean tooLong) {
            super(null, null, false, false);
            this.address = address;
            this.tooLong = tooLong;
        }
    }

    public Decoder(GuestMemory mem) {
        this(mem, null);
    }

    /** A decoder that fetches through a vCPU's paging when it is on. */
    Decoder(GuestMemory mem, Paging paging) {
        this.mem = mem;
        this.paging = paging;
    }

    /** Decodes 32-bit protected-mode code from now on (false: 64-bit mode). */
    void setMode32(boolean on) {
        mode32 = on;
    }

    /** The stack and near-branch operand size: 4 in 32-bit mode, 8 in 64-bit mode. */
    private int stackSize() {
        return mode32 ? 4 : 8;
    }

    /** A relative branch target, wrapped to 32 bits in 32-bit mode. */
    private long target(long rel) {
        long t = pos + rel;
        return mode32 ? t & 0xFFFF_FFFFL : t;
    }

    private int fetch() {
        if (pos - start >= MAX_LEN) {
            throw new FetchFault(pos, true);
        }
        long p = physical(pos);
        if (!mem.inBounds(p, 1)) {
            throw new FetchFault(pos, false);
        }
        pos++;
        return mem.read8(p);
    }

    /** The code bytes at [at, at + len) as decoding reads them (through paging); null when a byte cannot be fetched. */
    byte[] codeBytes(long at, int len) {
        byte[] out = new byte[len];
        try {
            for (int i = 0; i < len; i++) {
                long p = physical(at + i);
                if (!mem.inBounds(p, 1)) {
                    return null;
                }
                out[i] = (byte) mem.read8(p);
            }
        } catch (FetchFault f) {
            return null;
        }
        return out;
    }

    /** The physical address of a code byte; a fetch that faults ends decoding (the fault is raised when it runs). */
    private long physical(long linear) {
        if (paging == null || !paging.enabled) {
            return linear;
        }
        try {
            return paging.translate(linear, Paging.FETCH);
        } catch (CpuFault f) {
            throw new FetchFault(linear, false);
        }
    }

    private long fetch16() {
        return fetch() | (fetch() << 8);
    }

    private long fetch32s() {
        return (int) (fetch() | (fetch() << 8) | (fetch() << 16) | (fetch() << 24));
    }

    private long fetch64() {
        long lo = fetch32s() & 0xFFFF_FFFFL;
        long hi = fetch32s() & 0xFFFF_FFFFL;
        return lo | (hi << 32);
    }

    /** Immediate of size Iz (16 or 32 bits, sign-extended to 64), masked to the operand size. */
    private long immZ(int size) {
        long v = size == 2 ? (short) fetch16() : fetch32s();
        return v & MASK[size];
    }

    private long imm8s(int size) {
        return ((long) (byte) fetch()) & MASK[size];
    }

    /** Decodes the instruction at {@code rip}. */
    public Insn decode(long rip) {
        Insn d = new Insn();
        d.rip = rip;
        start = rip;
        pos = rip;
        rex = 0;
        ripRel = false;
        lock = false;
        try {
            decodeInto(d);
            if (lock && !lockable(d)) {
                d.op = Op.UD; // SDM: LOCK on an instruction or operand form that cannot be locked is #UD
            }
            d.len = (int) (pos - rip);
            d.next = rip + d.len;
            if (ripRel && !mode32) {
                d.disp += d.next;
                if (d.addr32) {
                    d.disp &= 0xFFFF_FFFFL;
                }
            }
        } catch (FetchFault f) {
            d.op = f.tooLong ? Op.TOO_LONG : Op.FETCH_FAULT;
            d.disp = f.address;
            d.len = (int) Math.max(1, pos - rip);
            d.next = rip + d.len;
            d.endsBlock = true;
            d.base = -1;
            d.index = -1;
        }
        if (d.op == Op.UD) {
            d.endsBlock = true;
        }
        d.branch = Op.isBranch(d.op) || d.op == Op.OUTS; // both set RIP themselves
        d.observesRetired = d.op == Op.RDTSC || d.op == Op.RDTSCP || d.op == Op.RDMSR || d.op == Op.WRMSR || d.op == Op.RDPMC;
        d.handler = Handlers.select(d);
        d.mayWriteMemory = MemoryWrites.possible(d);
        return d;
    }

    private void decodeInto(Insn d) {
        boolean opsz = false;
        int rep = StringOps.NO_REP;
        int b;
        d.addr32 = mode32;
        for (;;) {
            b = fetch();
            if ((b & 0xF0) == 0x40 && !mode32) {
                rex = b; // REX counts only directly before the opcode
                continue;
            }
            switch (b) {
                case 0x66 -> opsz = true;
                case 0x67 -> {
                    if (mode32) {
                        d.op = Op.UD; // 16-bit addressing is not modelled
                        return;
                    }
                    d.addr32 = true;
                }
                case 0xF2 -> rep = StringOps.REPNE;
                case 0xF3 -> rep = StringOps.REP;
                case 0xF0 -> lock = true;
                case 0x64 -> d.seg = 1;
                case 0x65 -> d.seg = 2;
                default -> { } // CS/SS/DS/ES are null segments in 64-bit mode
            }
            if (!isLegacyPrefix(b)) {
                break;
            }
            rex = 0;
        }
        boolean w = (rex & 8) != 0;
        int vsize = w ? 8 : opsz ? 2 : 4;
        d.size = vsize;
        if (b == 0x0F) {
            decode0F(d, fetch(), vsize, rep, opsz);
            return;
        }
        if (b < 0x40) {
            int form = b & 7;
            if (form < 6) {
                d.ext = b >> 3;
                decodeAlu(d, form, vsize);
            } else {
                d.op = Op.UD; // push/pop seg, daa, das, aaa, aas: invalid in 64-bit mode
            }
            return;
        }
        int ss = opsz ? 2 : stackSize();
        switch (b) {
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47 -> { d.op = Op.INC; d.rm = b & 7; } // 32-bit mode only
            case 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> { d.op = Op.DEC; d.rm = b & 7; }
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> {
                d.op = Op.PUSH_R; d.reg = (b & 7) | rexB(); d.size = ss;
            }
            case 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> {
                d.op = Op.POP_R; d.reg = (b & 7) | rexB(); d.size = ss;
            }
            case 0x63 -> {
                if (mode32) { d.op = Op.UD; return; } // ARPL is not modelled
                modrm(d, vsize, 4);
                if (vsize == 8) { d.op = Op.MOVSX; d.size2 = 4; } else { d.op = Op.MOV_R_RM; }
            }
            case 0x68 -> { d.op = Op.PUSH_I; d.size = ss; d.imm = opsz ? fetch16() : fetch32s() & OperandSize.MASK[ss]; }
            case 0x69 -> { d.op = Op.IMUL_R_RM_I; modrm(d, vsize, vsize); d.imm = immZ(vsize); }
            case 0x6A -> { d.op = Op.PUSH_I; d.size = ss; d.imm = imm8s(d.size); }
            case 0x6B -> { d.op = Op.IMUL_R_RM_I; modrm(d, vsize, vsize); d.imm = imm8s(vsize); }
            // OUTS: REPNE acts as REP, as for MOVS. INS (0x6C/0x6D) is not modelled and stays #UD.
            case 0x6E, 0x6F -> { d.op = Op.OUTS; d.size = io(b, opsz); d.ext = rep != StringOps.NO_REP ? StringOps.REP : StringOps.NO_REP; d.endsBlock = true; }
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F -> {
                d.op = Op.JCC; d.ext = b & 0xF; long rel = (byte) fetch(); d.target = target(rel); d.endsBlock = true;
            }
            case 0x80, 0x82 -> {
                if (b == 0x82) { d.op = Op.UD; return; }
                d.op = Op.ALU_RM_I; d.size = 1; d.ext = modrm(d, 1, 1); d.imm = fetch();
            }
            case 0x81 -> { d.op = Op.ALU_RM_I; d.ext = modrm(d, vsize, vsize); d.imm = immZ(vsize); }
            case 0x83 -> { d.op = Op.ALU_RM_I; d.ext = modrm(d, vsize, vsize); d.imm = imm8s(vsize); }
            case 0x84 -> { d.op = Op.TEST_RM_R; d.size = 1; modrm(d, 1, 1); }
            case 0x85 -> { d.op = Op.TEST_RM_R; modrm(d, vsize, vsize); }
            case 0x86 -> { d.op = Op.XCHG; d.size = 1; modrm(d, 1, 1); }
            case 0x87 -> { d.op = Op.XCHG; modrm(d, vsize, vsize); }
            case 0x88 -> { d.op = Op.MOV_RM_R; d.size = 1; modrm(d, 1, 1); }
            case 0x89 -> { d.op = Op.MOV_RM_R; modrm(d, vsize, vsize); }
            case 0x8A -> { d.op = Op.MOV_R_RM; d.size = 1; modrm(d, 1, 1); }
            case 0x8B -> { d.op = Op.MOV_R_RM; modrm(d, vsize, vsize); }
            case 0x8C -> { d.op = Op.MOV_FROM_SEG; int s = modrm(d, vsize, 2); d.ext = s; if (s > 5) d.op = Op.UD; if (d.mem) d.size = 2; }
            case 0x8D -> { d.op = Op.LEA; modrm(d, vsize, vsize); if (!d.mem) d.op = Op.UD; }
            case 0x8E -> { d.op = Op.MOV_TO_SEG; d.size = 2; int s = modrm(d, 2, 2); d.ext = s; if (s == 1 || s > 5) d.op = Op.UD; }
            case 0x8F -> { d.op = Op.POP_RM; d.size = ss; if (modrm(d, d.size, d.size) != 0) d.op = Op.UD; }
            case 0x90 -> {
                if ((rex & 1) != 0) { d.op = Op.XCHG; d.reg = 8; d.rm = 0; }
                else { d.op = rep == StringOps.REP ? Op.PAUSE : Op.NOP; }
            }
            case 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> { d.op = Op.XCHG; d.reg = (b & 7) | rexB(); d.rm = 0; }
            case 0x98 -> d.op = Op.CBW;
            case 0x99 -> d.op = Op.CWD;
            case 0x9B -> d.op = Op.NOP; // fwait: x87 exceptions are never pending (all masked)
            case 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF -> { // x87 (the X87 family decodes the rest)
                d.op = Op.X87; d.ext = ((b & 7) << 3) | modrm(d, 8, 8); d.rm &= 7;
            }
            case 0x9C -> { d.op = Op.PUSHF; d.size = ss; }
            case 0x9D -> { d.op = Op.POPF; d.size = ss; d.endsBlock = true; }
            case 0x9E -> d.op = Op.SAHF;
            case 0x9F -> d.op = Op.LAHF;
            case 0xA0, 0xA1, 0xA2, 0xA3 -> {
                // MOV between the accumulator and an absolute 64-bit (or 32-bit with 0x67) address.
                d.op = b < 0xA2 ? Op.MOV_R_RM : Op.MOV_RM_R;
                d.size = (b & 1) == 0 ? 1 : vsize;
                d.reg = 0;
                d.mem = true;
                d.base = -1;
                d.index = -1;
                d.disp = d.addr32 ? fetch32s() & 0xFFFF_FFFFL : fetch64(); // 32-bit moffs in 32-bit mode
            }
            case 0xA4, 0xA5 -> string(d, Op.MOVS, b, vsize, rep);
            case 0xA6, 0xA7 -> string(d, Op.CMPS, b, vsize, rep);
            case 0xA8 -> { d.op = Op.TEST_RM_I; d.size = 1; d.rm = 0; d.imm = fetch(); }
            case 0xA9 -> { d.op = Op.TEST_RM_I; d.rm = 0; d.imm = immZ(vsize); }
            case 0xAA, 0xAB -> string(d, Op.STOS, b, vsize, rep);
            case 0xAC, 0xAD -> string(d, Op.LODS, b, vsize, rep);
            case 0xAE, 0xAF -> string(d, Op.SCAS, b, vsize, rep);
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> {
                d.op = Op.MOV_RM_I; d.size = 1; d.rm = byteReg((b & 7) | rexB()); d.imm = fetch();
            }
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> {
                d.op = Op.MOV_RM_I; d.rm = (b & 7) | rexB();
                d.imm = vsize == 8 ? fetch64() : vsize == 2 ? fetch16() : fetch32s() & 0xFFFF_FFFFL;
            }
            case 0xC0 -> { d.op = Op.SHIFT_I; d.size = 1; d.ext = modrm(d, 1, 1); d.imm = fetch(); }
            case 0xC1 -> { d.op = Op.SHIFT_I; d.ext = modrm(d, vsize, vsize); d.imm = fetch(); }
            case 0xC2 -> { d.op = Op.RET_I; d.size = stackSize(); d.imm = fetch16(); d.endsBlock = true; }
            case 0xC3 -> { d.op = Op.RET; d.size = stackSize(); d.endsBlock = true; }
            case 0xCA, 0xCB -> { // lret / lretq
                d.op = opsz ? Op.UD : Op.RET_FAR; d.size = (rex & 8) != 0 ? 8 : 4; d.imm = b == 0xCA ? fetch16() : 0; d.endsBlock = true;
            }
            case 0xC6 -> {
                d.op = Op.MOV_RM_I; d.size = 1;
                if (modrm(d, 1, 1) != 0) { d.op = Op.UD; return; }
                d.imm = fetch();
            }
            case 0xC7 -> {
                d.op = Op.MOV_RM_I;
                if (modrm(d, vsize, vsize) != 0) { d.op = Op.UD; return; }
                d.imm = immZ(vsize);
            }
            case 0xC8 -> { d.op = Op.ENTER; d.size = stackSize(); d.imm = fetch16(); d.imm2 = fetch() & 31; }
            case 0xC9 -> { d.op = Op.LEAVE; d.size = stackSize(); }
            case 0xCC -> { d.op = Op.INT3; d.endsBlock = true; }
            case 0xCD -> { d.op = Op.INT; d.imm = fetch(); d.endsBlock = true; }
            case 0xCF -> { d.op = Op.IRET; d.endsBlock = true; }
            case 0xD0 -> { d.op = Op.SHIFT_I; d.size = 1; d.ext = modrm(d, 1, 1); d.imm = 1; }
            case 0xD1 -> { d.op = Op.SHIFT_I; d.ext = modrm(d, vsize, vsize); d.imm = 1; }
            case 0xD2 -> { d.op = Op.SHIFT_CL; d.size = 1; d.ext = modrm(d, 1, 1); }
            case 0xD3 -> { d.op = Op.SHIFT_CL; d.ext = modrm(d, vsize, vsize); }
            case 0xE0, 0xE1, 0xE2 -> {
                d.op = Op.LOOP; d.ext = b - 0xE0 /* ControlFlow.LOOPNE, LOOPE, LOOP */; long rel = (byte) fetch(); d.target = target(rel); d.endsBlock = true;
            }
            case 0xE3 -> { d.op = Op.JRCXZ; long rel = (byte) fetch(); d.target = target(rel); d.endsBlock = true; }
            case 0xE4, 0xE5 -> { d.op = Op.IN; d.ext = SystemOps.PORT_IMM; d.size = io(b, opsz); d.imm = fetch(); d.endsBlock = true; }
            case 0xE6, 0xE7 -> { d.op = Op.OUT; d.ext = SystemOps.PORT_IMM; d.size = io(b, opsz); d.imm = fetch(); d.endsBlock = true; }
            case 0xE8 -> { d.op = Op.CALL_REL; d.size = stackSize(); long rel = fetch32s(); d.target = target(rel); d.endsBlock = true; }
            case 0xE9 -> { d.op = Op.JMP_REL; long rel = fetch32s(); d.target = target(rel); d.endsBlock = true; }
            case 0xEA -> { // ljmp ptr16:32: 32-bit mode only
                if (!mode32 || opsz) { d.op = Op.UD; return; }
                d.op = Op.JMP_FAR; d.imm = fetch32s() & 0xFFFF_FFFFL; d.imm2 = fetch16(); d.endsBlock = true;
            }
            case 0xEB -> { d.op = Op.JMP_REL; long rel = (byte) fetch(); d.target = target(rel); d.endsBlock = true; }
            case 0xEC, 0xED -> { d.op = Op.IN; d.ext = SystemOps.PORT_DX; d.size = io(b, opsz); d.endsBlock = true; }
            case 0xEE, 0xEF -> { d.op = Op.OUT; d.ext = SystemOps.PORT_DX; d.size = io(b, opsz); d.endsBlock = true; }
            case 0xF4 -> { d.op = Op.HLT; d.endsBlock = true; }
            case 0xF5 -> d.op = Op.CMC;
            case 0xF6, 0xF7 -> {
                int size = b == 0xF6 ? 1 : vsize;
                d.size = size;
                int ext = modrm(d, size, size);
                switch (ext) {
                    case G3_TEST, G3_TEST_ALIAS -> { d.op = Op.TEST_RM_I; d.imm = size == 1 ? fetch() : immZ(size); }
                    case G3_NOT -> d.op = Op.NOT;
                    case G3_NEG -> d.op = Op.NEG;
                    case G3_MUL -> d.op = Op.MUL;
                    case G3_IMUL -> d.op = Op.IMUL1;
                    case G3_DIV -> d.op = Op.DIV;
                    default -> d.op = Op.IDIV;
                }
            }
            case 0xF8 -> d.op = Op.CLC;
            case 0xF9 -> d.op = Op.STC;
            case 0xFA -> d.op = Op.CLI;
            case 0xFB -> { d.op = Op.STI; d.endsBlock = true; }
            case 0xFC -> d.op = Op.CLD;
            case 0xFD -> d.op = Op.STD;
            case 0xFE -> {
                d.size = 1;
                int ext = modrm(d, 1, 1);
                d.op = ext == G5_INC ? Op.INC : ext == G5_DEC ? Op.DEC : Op.UD;
            }
            case 0xFF -> {
                int ext = peekModrmReg();
                int size = (ext == G5_CALL || ext == G5_JMP) ? stackSize() : ext == G5_PUSH ? ss
                        : ext == G5_JMP_FAR ? ((rex & 8) != 0 ? 8 : 4) : vsize;
                d.size = size;
                modrm(d, size, size);
                switch (ext) {
                    case G5_INC -> d.op = Op.INC;
                    case G5_DEC -> d.op = Op.DEC;
                    case G5_CALL -> { d.op = Op.CALL_RM; d.endsBlock = true; }
                    case G5_JMP -> { d.op = Op.JMP_RM; d.endsBlock = true; }
                    case G5_PUSH -> d.op = Op.PUSH_RM;
                    case G5_JMP_FAR -> { d.op = d.mem ? Op.JMP_FAR_M : Op.UD; d.endsBlock = true; }
                    default -> d.op = Op.UD; // far call through memory: not supported
                }
            }
            default -> d.op = Op.UD;
        }
    }

    /** The read-modify-write forms with a memory destination that accept LOCK (SDM vol. 2, LOCK). */
    private static boolean lockable(Insn d) {
        if (!d.mem) {
            return false;
        }
        return switch (d.op) {
            case Op.ALU_RM_R, Op.ALU_RM_I -> d.ext != Arithmetic.CMP;
            case Op.INC, Op.DEC, Op.NEG, Op.NOT, Op.XCHG, Op.XADD, Op.CMPXCHG -> true;
            case Op.BT_R, Op.BT_I -> d.ext != BitOps.BT;
            default -> false;
        };
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xF2, 0xF3, 0x64, 0x65, 0x2E, 0x36, 0x3E, 0x26, 0xF0 -> true;
            default -> false;
        };
    }

    private static int io(int b, boolean opsz) {
        return (b & 1) == 0 ? 1 : opsz ? 2 : 4;
    }

    private void string(Insn d, int op, int b, int vsize, int rep) {
        d.op = op;
        d.size = (b & 1) == 0 ? 1 : vsize;
        d.ext = rep;
        // Only REP MOVS/STOS/LODS treat F2 like F3; CMPS/SCAS distinguish REPE and REPNE.
        if ((op == Op.MOVS || op == Op.STOS || op == Op.LODS) && rep == StringOps.REPNE) {
            d.ext = StringOps.REP;
        }
    }

    private void decodeAlu(Insn d, int form, int vsize) {
        switch (form) {
            case 0 -> { d.op = Op.ALU_RM_R; d.size = 1; modrm(d, 1, 1); }
            case 1 -> { d.op = Op.ALU_RM_R; modrm(d, vsize, vsize); }
            case 2 -> { d.op = Op.ALU_R_RM; d.size = 1; modrm(d, 1, 1); }
            case 3 -> { d.op = Op.ALU_R_RM; modrm(d, vsize, vsize); }
            case 4 -> { d.op = Op.ALU_RM_I; d.size = 1; d.rm = 0; d.imm = fetch(); }
            default -> { d.op = Op.ALU_RM_I; d.rm = 0; d.imm = immZ(vsize); }
        }
    }

    private void decode0F(Insn d, int b, int vsize, int rep, boolean opsz) {
        switch (b) {
            case 0x00 -> group6(d);
            case 0x01 -> group7(d);
            case 0x05 -> { d.op = Op.SYSCALL; d.endsBlock = true; }
            case 0x07 -> { d.op = Op.SYSRET; d.size = vsize; d.endsBlock = true; }
            case 0x08, 0x09 -> d.op = Op.NOP; // invd/wbinvd: no caches are modelled
            case 0x0B -> d.op = Op.UD;
            case 0x0D, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F -> { d.op = Op.NOP; modrm(d, vsize, vsize); }
            case 0x20, 0x22 -> {
                int m = fetch();
                d.ext = ((m >> 3) & 7) | rexR();
                d.rm = (m & 7) | rexB();
                d.size = 8;
                d.op = b == 0x20 ? Op.MOV_FROM_CR : Op.MOV_TO_CR;
                if (!(d.ext == 0 || d.ext == 2 || d.ext == 3 || d.ext == 4 || d.ext == 8)) {
                    d.op = Op.UD;
                }
                if (b == 0x22) {
                    d.endsBlock = true;
                }
            }
            case 0x30 -> { d.op = Op.WRMSR; d.endsBlock = true; }
            case 0x31 -> d.op = Op.RDTSC;
            case 0x32 -> d.op = Op.RDMSR;
            case 0x33 -> d.op = Op.RDPMC;
            case 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F -> {
                d.op = Op.CMOVCC; d.ext = b & 0xF; modrm(d, vsize, vsize);
            }
            case 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F -> {
                d.op = Op.JCC; d.ext = b & 0xF; long rel = fetch32s(); d.target = target(rel); d.endsBlock = true;
            }
            case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F -> {
                d.op = Op.SETCC; d.ext = b & 0xF; d.size = 1; modrm(d, 1, 1);
            }
            case 0xA2 -> d.op = Op.CPUID;
            case 0xA3 -> { d.op = Op.BT_R; d.ext = BitOps.BT; modrm(d, vsize, vsize); }
            case 0xA4 -> { d.op = Op.SHLD; d.ext = Shifts.COUNT_IMM; modrm(d, vsize, vsize); d.imm = fetch(); }
            case 0xA5 -> { d.op = Op.SHLD; d.ext = Shifts.COUNT_CL; modrm(d, vsize, vsize); }
            case 0xAB -> { d.op = Op.BT_R; d.ext = BitOps.BTS; modrm(d, vsize, vsize); }
            case 0xAC -> { d.op = Op.SHRD; d.ext = Shifts.COUNT_IMM; modrm(d, vsize, vsize); d.imm = fetch(); }
            case 0xAD -> { d.op = Op.SHRD; d.ext = Shifts.COUNT_CL; modrm(d, vsize, vsize); }
            case 0xAE -> {
                int ext = modrm(d, vsize, vsize);
                // lfence/mfence/sfence (register form of /5, /6, /7); everything else (x87/SSE state) is not modelled.
                d.op = (!d.mem && ext >= 5) ? Op.NOP : Op.UD;
            }
            case 0xAF -> { d.op = Op.IMUL_R_RM; modrm(d, vsize, vsize); }
            case 0xB0 -> { d.op = Op.CMPXCHG; d.size = 1; modrm(d, 1, 1); }
            case 0xB1 -> { d.op = Op.CMPXCHG; modrm(d, vsize, vsize); }
            case 0xB3 -> { d.op = Op.BT_R; d.ext = BitOps.BTR; modrm(d, vsize, vsize); }
            case 0xB6 -> { d.op = Op.MOVZX; d.size2 = 1; modrm(d, vsize, 1); }
            case 0xB7 -> { d.op = Op.MOVZX; d.size2 = 2; modrm(d, vsize, 2); }
            case 0xB8 -> {
                if (rep == StringOps.REP) { d.op = Op.POPCNT; modrm(d, vsize, vsize); } else { d.op = Op.UD; }
            }
            case 0xBA -> {
                int ext = modrm(d, vsize, vsize);
                d.imm = fetch();
                if (ext < 4) { d.op = Op.UD; } else { d.op = Op.BT_I; d.ext = ext - 4; } // /4../7 = BT, BTS, BTR, BTC
            }
            case 0xBB -> { d.op = Op.BT_R; d.ext = BitOps.BTC; modrm(d, vsize, vsize); }
            case 0xBC -> { d.op = rep == StringOps.REP ? Op.TZCNT : Op.BSF; modrm(d, vsize, vsize); }
            case 0xBD -> { d.op = rep == StringOps.REP ? Op.LZCNT : Op.BSR; modrm(d, vsize, vsize); }
            case 0xBE -> { d.op = Op.MOVSX; d.size2 = 1; modrm(d, vsize, 1); }
            case 0xBF -> { d.op = Op.MOVSX; d.size2 = 2; modrm(d, vsize, 2); }
            case 0xC0 -> { d.op = Op.XADD; d.size = 1; modrm(d, 1, 1); }
            case 0xC1 -> { d.op = Op.XADD; modrm(d, vsize, vsize); }
            case 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF -> { d.op = Op.BSWAP; d.reg = (b & 7) | rexB(); }
            default -> d.op = Op.UD;
        }
    }

    private void group7(Insn d) {
        int m = peek();
        if (m == 0xF8) { fetch(); d.op = mode32 ? Op.UD : Op.SWAPGS; return; }
        if (m == 0xF9) { fetch(); d.op = Op.RDTSCP; return; }
        int ext = modrm(d, 8, 8);
        if (!d.mem) { d.op = Op.UD; return; }
        d.size = stackSize(); // the width of the descriptor-table base: 4 in 32-bit mode, 8 in 64-bit mode
        switch (ext) {
            case G7_SGDT -> d.op = Op.SGDT;
            case G7_SIDT -> d.op = Op.SIDT;
            case G7_LGDT -> d.op = Op.LGDT;
            case G7_LIDT -> { d.op = Op.LIDT; d.endsBlock = true; }
            case G7_INVLPG -> { d.op = Op.INVLPG; d.endsBlock = true; }
            default -> d.op = Op.UD;
        }
    }

    /** Group 6 (0F 00): SLDT, STR, LLDT, LTR with a 16-bit selector operand. */
    private void group6(Insn d) {
        int ext = modrm(d, 2, 2);
        d.size = 2;
        switch (ext) {
            case G6_SLDT -> d.op = Op.SLDT;
            case G6_STR -> d.op = Op.STR;
            case G6_LLDT -> d.op = Op.LLDT;
            case G6_LTR -> d.op = Op.LTR;
            default -> d.op = Op.UD;
        }
    }

    private int peek() {
        long p = physical(pos);
        if (!mem.inBounds(p, 1)) {
            throw new FetchFault(pos, false);
        }
        return mem.read8(p);
    }

    private int peekModrmReg() {
        return (peek() >> 3) & 7;
    }

    private int rexB() {
        return (rex & 1) << 3;
    }

    private int rexR() {
        return (rex & 4) << 1;
    }

    private int rexX() {
        return (rex & 2) << 2;
    }

    /** Without REX, byte registers 4-7 are AH, CH, DH, BH (numbered 16-19). */
    private int byteReg(int n) {
        return (rex == 0 && n >= 4 && n < 8) ? n + 12 : n;
    }

    /**
     * Decodes ModRM (and SIB, displacement) into d.reg / d.rm / memory fields.
     *
     * @param regSize size of the ModRM.reg operand (selects byte-register naming)
     * @param rmSize  size of the r/m operand
     * @return the raw 3-bit reg field (the opcode extension for group instructions)
     */
    private int modrm(Insn d, int regSize, int rmSize) {
        int m = fetch();
        int mod = m >>> 6;
        int regField = (m >> 3) & 7;
        int reg = regField | rexR();
        d.reg = regSize == 1 ? byteReg(reg) : reg;
        int rm = m & 7;
        if (mod == 3) {
            int r = rm | rexB();
            d.rm = rmSize == 1 ? byteReg(r) : r;
            d.mem = false;
            return regField;
        }
        d.mem = true;
        d.base = -1;
        d.index = -1;
        if (rm == 4) {
            int sib = fetch();
            d.scale = sib >>> 6;
            int idx = ((sib >> 3) & 7) | rexX();
            d.index = idx == 4 ? -1 : idx;
            int base = sib & 7;
            if (base == 5 && mod == 0) {
                d.disp = fetch32s();
            } else {
                d.base = base | rexB();
            }
        } else if (rm == 5 && mod == 0) {
            d.disp = fetch32s();
            ripRel = !mode32; // disp32 alone in 32-bit mode
        } else {
            d.base = rm | rexB();
        }
        if (mod == 1) {
            d.disp += (byte) fetch();
        } else if (mod == 2) {
            d.disp += fetch32s();
        }
        return regField;
    }
}
