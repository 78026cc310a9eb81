package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.OperandSize.MASK;

/**
 * Integer arithmetic and logic: the ALU rows (ADD OR ADC SBB AND SUB XOR CMP), TEST, INC, DEC,
 * NEG, NOT, XADD and CMPXCHG, and the specialized handlers of their common forms. Each operation
 * is written once ({@link #add}, {@link #sub}, {@link #logic}...) and used by both the reference
 * executor and the fast handlers; the flags are left to {@link LazyFlags}.
 */
final class Arithmetic {
    private Arithmetic() {}

    /** ALU rows: bits 5:3 of opcodes 00-3F and the ModRM.reg extension of group 1 (80-83). */
    static final int ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7;

    /** Every row but CMP writes its result back. */
    static boolean writesResult(int row) {
        return row != CMP;
    }

    /** One ALU row on operands already masked to {@code size}; returns the result. */
    static long alu(Cpu c, int row, long a, long b, int size) {
        switch (row) {
            case ADD:
                return add(c, a, b, size);
            case OR:
                return logic(c, a | b, size);
            case ADC:
                return addWithCarry(c, a, b, size);
            case SBB:
                return subWithBorrow(c, a, b, size);
            case AND:
                return logic(c, a & b, size);
            case XOR:
                return logic(c, a ^ b, size);
            default: // SUB, CMP
                return sub(c, a, b, size);
        }
    }

    static long add(Cpu c, long a, long b, int size) {
        long res = (a + b) & MASK[size];
        LazyFlags.set(c, LazyFlags.ADD, a, b, res, size);
        return res;
    }

    static long sub(Cpu c, long a, long b, int size) {
        long res = (a - b) & MASK[size];
        LazyFlags.set(c, LazyFlags.SUB, a, b, res, size);
        return res;
    }

    /** AND, OR, XOR, TEST: CF = OF = 0, the rest from the result. */
    static long logic(Cpu c, long res, int size) {
        LazyFlags.set(c, LazyFlags.LOGIC, 0, 0, res, size);
        return res;
    }

    private static long addWithCarry(Cpu c, long a, long b, int size) {
        long carry = LazyFlags.cf(c) ? 1 : 0;
        long res = (a + b + carry) & MASK[size];
        LazyFlags.set(c, LazyFlags.ADC, a, b, res, size);
        c.fAux = carry;
        return res;
    }

    private static long subWithBorrow(Cpu c, long a, long b, int size) {
        long borrow = LazyFlags.cf(c) ? 1 : 0;
        long res = (a - b - borrow) & MASK[size];
        LazyFlags.set(c, LazyFlags.SBB, a, b, res, size);
        c.fAux = borrow;
        return res;
    }

    /** INC and DEC leave CF as it was: it is kept in fAux. */
    private static long incDec(Cpu c, long v, boolean inc, int size) {
        long carry = LazyFlags.cf(c) ? 1 : 0;
        long res = (inc ? v + 1 : v - 1) & MASK[size];
        LazyFlags.set(c, inc ? LazyFlags.INC : LazyFlags.DEC, v, 1, res, size);
        c.fAux = carry;
        return res;
    }

    // ------------------------------------------------------------------ reference forms

    /** ALU_RM_R: rm = rm (row) reg. */
    static void aluRmR(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        long res = alu(c, in.ext, c.readRm(in, addr), c.getReg(in.reg, in.size), in.size);
        if (writesResult(in.ext)) {
            c.writeRm(in, addr, res);
        }
    }

    /** ALU_R_RM: reg = reg (row) rm. */
    static void aluRRm(Cpu c, Insn in) {
        long res = alu(c, in.ext, c.getReg(in.reg, in.size), c.readRm(in), in.size);
        if (writesResult(in.ext)) {
            c.setReg(in.reg, in.size, res);
        }
    }

    /** ALU_RM_I: rm = rm (row) imm. */
    static void aluRmI(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        long res = alu(c, in.ext, c.readRm(in, addr), in.imm, in.size);
        if (writesResult(in.ext)) {
            c.writeRm(in, addr, res);
        }
    }

    static void testRmR(Cpu c, Insn in) {
        logic(c, c.readRm(in) & c.getReg(in.reg, in.size), in.size);
    }

    static void testRmI(Cpu c, Insn in) {
        logic(c, c.readRm(in) & in.imm, in.size);
    }

    static void incDec(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        c.writeRm(in, addr, incDec(c, c.readRm(in, addr), in.op == Op.INC, in.size));
    }

    static void neg(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        c.writeRm(in, addr, sub(c, 0, c.readRm(in, addr), in.size));
    }

    static void not(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        c.writeRm(in, addr, ~c.readRm(in, addr) & MASK[in.size]);
    }

    static void xadd(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        long dest = c.readRm(in, addr);
        long sum = add(c, dest, c.getReg(in.reg, in.size), in.size);
        c.setReg(in.reg, in.size, dest);
        c.writeRm(in, addr, sum);
    }

    static void cmpxchg(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        long dest = c.readRm(in, addr);
        sub(c, c.getReg(Cpu.RAX, in.size), dest, in.size);
        if (LazyFlags.zf(c)) {
            c.writeRm(in, addr, c.getReg(in.reg, in.size));
        } else {
            if (in.mem) {
                c.store(addr, in.size, dest); // the locked cycle always writes
            }
            c.setReg(Cpu.RAX, in.size, dest);
        }
    }

    // ------------------------------------------------------------------ fast forms (32/64-bit registers)

    /** The handler for an arithmetic form, or null when the reference executor runs it. */
    static Handler select(Insn in) {
        boolean wide = in.size == 8 || in.size == 4;
        switch (in.op) {
            case Op.ALU_RM_R:
                if (in.mem || !wide) {
                    return null;
                }
                return switch (in.ext) {
                    case ADD -> ADD_RR;
                    case SUB -> SUB_RR;
                    case CMP -> CMP_RR;
                    case XOR -> XOR_RR;
                    case AND -> AND_RR;
                    case OR -> OR_RR;
                    default -> null;
                };
            case Op.ALU_R_RM:
                if (!wide) {
                    return null;
                }
                if (in.mem) {
                    return in.ext == CMP ? CMP_R_M : ALU_R_M;
                }
                return in.ext == CMP ? CMP_RR_REV : null;
            case Op.ALU_RM_I:
                if (in.mem || !wide) {
                    return in.mem && in.ext == CMP ? CMP_MI : null;
                }
                return switch (in.ext) {
                    case ADD -> ADD_RI;
                    case SUB -> SUB_RI;
                    case CMP -> CMP_RI;
                    case AND -> AND_RI;
                    default -> null;
                };
            case Op.TEST_RM_R:
                return !in.mem && wide ? TEST_RR : null;
            case Op.INC:
            case Op.DEC:
                return !in.mem && wide ? INC_DEC_R : null;
            default:
                return null;
        }
    }

    static final Handler ADD_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = MASK[in.size];
            c.r[in.rm] = add(c, c.r[in.rm] & m, c.r[in.reg] & m, in.size);
        }
    };
    static final Handler SUB_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = MASK[in.size];
            c.r[in.rm] = sub(c, c.r[in.rm] & m, c.r[in.reg] & m, in.size);
        }
    };
    static final Handler CMP_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = MASK[in.size];
            sub(c, c.r[in.rm] & m, c.r[in.reg] & m, in.size);
        }
    };
    /** CMP reg, rm in its register-register form (opcode 3B): the operands the other way round. */
    static final Handler CMP_RR_REV = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            long m = MASK[in.size];
            sub(c, c.r[in.reg] & m, c.r[in.rm] & m, in.size);
        }
    };
    static final Handler XOR_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = logic(c, (c.r[in.rm] ^ c.r[in.reg]) & MASK[in.size], in.size);
        }
    };
    static final Handler AND_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = logic(c, c.r[in.rm] & c.r[in.reg] & MASK[in.size], in.size);
        }
    };
    static final Handler OR_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = logic(c, (c.r[in.rm] | c.r[in.reg]) & MASK[in.size], in.size);
        }
    };
    static final Handler TEST_RR = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            logic(c, c.r[in.rm] & c.r[in.reg] & MASK[in.size], in.size);
        }
    };
    static final Handler ADD_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = add(c, c.r[in.rm] & MASK[in.size], in.imm, in.size);
        }
    };
    static final Handler SUB_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = sub(c, c.r[in.rm] & MASK[in.size], in.imm, in.size);
        }
    };
    static final Handler CMP_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            sub(c, c.r[in.rm] & MASK[in.size], in.imm, in.size);
        }
    };
    static final Handler AND_RI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = logic(c, c.r[in.rm] & in.imm & MASK[in.size], in.size);
        }
    };
    static final Handler CMP_MI = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            sub(c, c.load(c.ea(in), in.size), in.imm, in.size);
        }
    };
    static final Handler CMP_R_M = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            sub(c, c.r[in.reg] & MASK[in.size], c.load(c.ea(in), in.size), in.size);
        }
    };
    /** reg = reg (row) mem for every row but CMP. */
    static final Handler ALU_R_M = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = alu(c, in.ext, c.r[in.reg] & MASK[in.size], c.load(c.ea(in), in.size), in.size);
        }
    };
    static final Handler INC_DEC_R = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.rm] = incDec(c, c.r[in.rm] & MASK[in.size], in.op == Op.INC, in.size);
        }
    };
}
