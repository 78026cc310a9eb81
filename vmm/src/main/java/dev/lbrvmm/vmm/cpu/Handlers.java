package dev.lbrvmm.vmm.cpu;

/**
 * The specialized handlers for common instruction forms, and the rule that picks one for a
 * decoded instruction. Forms without one run through {@link Cpu#exec(Insn)}.
 */
final class Handlers {
    private Handlers() {}

    private static final long M32 = 0xFFFF_FFFFL;

    static final Handler GENERAL = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.exec(in);
        }
    };

    /** The handler for a decoded instruction. */
    static Handler select(Insn in) {
        boolean wide = in.size == 8 || in.size == 4;
        switch (in.op) {
            case Op.MOV_R_RM:
                if (!in.mem) {
                    return in.size == 8 ? MOV_RR64 : in.size == 4 ? MOV_RR32 : GENERAL;
                }
                return in.size == 8 ? LOAD64 : in.size == 4 ? LOAD32 : GENERAL;
            case Op.MOV_RM_R:
                if (!in.mem) {
                    return in.size == 8 ? MOV_RR64_STORE_FORM : in.size == 4 ? MOV_RR32_STORE_FORM : GENERAL;
                }
                return in.size == 8 ? STORE64 : in.size == 4 ? STORE32 : GENERAL;
            case Op.MOV_RM_I:
                return !in.mem && wide ? MOV_RI : GENERAL;
            case Op.ALU_RM_R:
                if (in.mem || !wide) {
                    return GENERAL;
                }
                return switch (in.ext) {
                    case 0 -> ADD_RR;
                    case 5 -> SUB_RR;
                    case 7 -> CMP_RR;
                    case 6 -> XOR_RR;
                    case 4 -> AND_RR;
                    case 1 -> OR_RR;
                    default -> GENERAL;
                };
            case Op.ALU_R_RM:
                if (!wide) {
                    return GENERAL;
                }
                if (in.mem) {
                    return in.ext == 7 ? CMP_R_M : ALU_R_M;
                }
                return in.ext == 7 ? CMP_RR_REV : GENERAL;
            case Op.ALU_RM_I:
                if (in.mem || !wide) {
                    return in.mem && in.ext == 7 ? CMP_MI : GENERAL;
                }
                return switch (in.ext) {
                    case 0 -> ADD_RI;
                    case 5 -> SUB_RI;
                    case 7 -> CMP_RI;
                    case 4 -> AND_RI;
                    default -> GENERAL;
                };
            case Op.TEST_RM_R:
                return !in.mem && wide ? TEST_RR : GENERAL;
            case Op.INC:
            case Op.DEC:
                return !in.mem && wide ? INC_DEC_R : GENERAL;
            case Op.LEA:
                return LEA;
            case Op.JCC:
                return JCC;
            case Op.JMP_REL:
                return JMP_REL;
            case Op.JMP_RM:
                return in.mem ? GENERAL : JMP_R;
            case Op.CALL_REL:
                return CALL_REL;
            case Op.RET:
                return RET;
            case Op.PUSH_R:
                return in.size == 8 ? PUSH64 : GENERAL;
            case Op.POP_R:
                return in.size == 8 ? POP64 : GENERAL;
            case Op.MOVZX:
                return in.mem && in.size2 == 1 && wide ? MOVZX_B_LOAD : GENERAL;
            default:
                return GENERAL;
        }
    }

    private static long load64(Cpu c, long a) {
        GuestMemory m = c.memory();
        if (!m.inBounds(a, 8)) {
            return c.load(a, 8); // raises #PF
        }
        return m.read64(a);
    }

    private static long load32(Cpu c, long a) {
        GuestMemory m = c.memory();
        if (!m.inBounds(a, 4)) {
            return c.load(a, 4);
        }
        return m.read32(a);
    }

    private static void setFlags(Cpu c, int op, long a, long b, long res, int size) {
        c.fOp = op;
        c.fA = a;
        c.fB = b;
        c.fRes = res;
        c.fSize = size;
    }

    static final Handler MOV_RR64 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = c.r[in.rm];
        }
    };
    static final Handler MOV_RR32 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = c.r[in.rm] & M32;
        }
    };
    static final Handler MOV_RR64_STORE_FORM = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = c.r[in.reg];
        }
    };
    static final Handler MOV_RR32_STORE_FORM = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = c.r[in.reg] & M32;
        }
    };
    static final Handler LOAD64 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = load64(c, c.ea(in));
        }
    };
    static final Handler LOAD32 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = load32(c, c.ea(in));
        }
    };
    static final Handler STORE64 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.store(c.ea(in), 8, c.r[in.reg]);
        }
    };
    static final Handler STORE32 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.store(c.ea(in), 4, c.r[in.reg]);
        }
    };
    static final Handler MOV_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = in.imm;
        }
    };

    static final Handler ADD_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.rm] & m;
            long b = c.r[in.reg] & m;
            long res = (a + b) & m;
            setFlags(c, Cpu.F_ADD, a, b, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler SUB_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.rm] & m;
            long b = c.r[in.reg] & m;
            long res = (a - b) & m;
            setFlags(c, Cpu.F_SUB, a, b, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler CMP_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.rm] & m;
            long b = c.r[in.reg] & m;
            setFlags(c, Cpu.F_SUB, a, b, (a - b) & m, in.size);
        }
    };
    static final Handler CMP_RR_REV = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.reg] & m;
            long b = c.r[in.rm] & m;
            setFlags(c, Cpu.F_SUB, a, b, (a - b) & m, in.size);
        }
    };
    static final Handler XOR_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long res = (c.r[in.rm] ^ c.r[in.reg]) & m;
            setFlags(c, Cpu.F_LOGIC, 0, 0, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler AND_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long res = c.r[in.rm] & c.r[in.reg] & m;
            setFlags(c, Cpu.F_LOGIC, 0, 0, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler OR_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long res = (c.r[in.rm] | c.r[in.reg]) & m;
            setFlags(c, Cpu.F_LOGIC, 0, 0, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler TEST_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long res = c.r[in.rm] & c.r[in.reg] & Cpu.MASK[in.size];
            setFlags(c, Cpu.F_LOGIC, 0, 0, res, in.size);
        }
    };
    static final Handler ADD_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.rm] & m;
            long res = (a + in.imm) & m;
            setFlags(c, Cpu.F_ADD, a, in.imm, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler SUB_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.rm] & m;
            long res = (a - in.imm) & m;
            setFlags(c, Cpu.F_SUB, a, in.imm, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler CMP_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.rm] & m;
            setFlags(c, Cpu.F_SUB, a, in.imm, (a - in.imm) & m, in.size);
        }
    };
    static final Handler AND_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long res = c.r[in.rm] & in.imm & Cpu.MASK[in.size];
            setFlags(c, Cpu.F_LOGIC, 0, 0, res, in.size);
            c.r[in.rm] = res;
        }
    };
    static final Handler CMP_MI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long a = c.load(c.ea(in), in.size);
            setFlags(c, Cpu.F_SUB, a, in.imm, (a - in.imm) & Cpu.MASK[in.size], in.size);
        }
    };
    static final Handler CMP_R_M = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long a = c.r[in.reg] & m;
            long b = c.load(c.ea(in), in.size);
            setFlags(c, Cpu.F_SUB, a, b, (a - b) & m, in.size);
        }
    };
    static final Handler ALU_R_M = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            c.r[in.reg] = c.alu(in.ext, c.r[in.reg] & m, c.load(c.ea(in), in.size), in.size);
        }
    };
    static final Handler INC_DEC_R = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = Cpu.MASK[in.size];
            long v = c.r[in.rm] & m;
            long carry = c.cf() ? 1 : 0;
            boolean inc = in.op == Op.INC;
            long res = (inc ? v + 1 : v - 1) & m;
            setFlags(c, inc ? Cpu.F_INC : Cpu.F_DEC, v, 1, res, in.size);
            c.fAux = carry;
            c.r[in.rm] = res;
        }
    };
    static final Handler LEA = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long a = in.disp;
            if (in.base >= 0) {
                a += c.r[in.base];
            }
            if (in.index >= 0) {
                a += c.r[in.index] << in.scale;
            }
            if (in.size == 8 && !in.addr32) {
                c.r[in.reg] = a;
            } else {
                c.r[in.reg] = in.size == 2 ? (c.r[in.reg] & ~0xFFFFL) | (a & 0xFFFF) : a & M32;
            }
        }
    };
    static final Handler MOVZX_B_LOAD = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = c.load(c.ea(in), 1);
        }
    };
    static final Handler JCC = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            if (c.cond(in.ext)) {
                c.rip = in.target;
                c.branch(in.rip, in.target, BranchKind.K_CONDITIONAL);
            } else {
                c.rip = in.next;
                c.notTaken(in.rip);
            }
        }
    };
    static final Handler JMP_REL = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.rip = in.target;
            c.branch(in.rip, in.target, BranchKind.K_NEAR_REL_JMP);
        }
    };
    static final Handler JMP_R = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long t = c.r[in.rm];
            c.rip = t;
            c.branch(in.rip, t, BranchKind.K_NEAR_IND_JMP);
        }
    };
    static final Handler CALL_REL = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.push(in.next, 8);
            c.rip = in.target;
            c.branch(in.rip, in.target, BranchKind.K_NEAR_REL_CALL);
        }
    };
    static final Handler RET = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long t = c.pop(8);
            c.rip = t;
            c.branch(in.rip, t, BranchKind.K_NEAR_RET);
        }
    };
    static final Handler PUSH64 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.push(c.r[in.reg], 8);
        }
    };
    static final Handler POP64 = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = c.pop(8);
        }
    };
}
