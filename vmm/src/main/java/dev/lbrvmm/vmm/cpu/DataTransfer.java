package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.OperandSize.MASK;
import static dev.lbrvmm.vmm.cpu.OperandSize.SIGN;
import static dev.lbrvmm.vmm.cpu.OperandSize.signExtend;

/**
 * Data transfer: MOV and its zero/sign-extending forms, LEA, XCHG, CMOVcc, SETcc, PUSH, POP, the
 * accumulator conversions (CBW/CWDE/CDQE, CWD/CDQ/CQO) and BSWAP, with the specialized handlers
 * of the common register and memory forms.
 */
final class DataTransfer {
    private DataTransfer() {}

    private static final long M32 = 0xFFFF_FFFFL;

    // ------------------------------------------------------------------ reference forms

    static void movRRm(Cpu c, Insn in) {
        c.setReg(in.reg, in.size, c.readRm(in));
    }

    static void movRmR(Cpu c, Insn in) {
        c.writeRm(in, c.getReg(in.reg, in.size));
    }

    static void movRmI(Cpu c, Insn in) {
        c.writeRm(in, in.imm);
    }

    static void movzx(Cpu c, Insn in) {
        c.setReg(in.reg, in.size, in.mem ? c.load(c.ea(in), in.size2) : c.getReg(in.rm, in.size2));
    }

    static void movsx(Cpu c, Insn in) {
        long v = in.mem ? c.load(c.ea(in), in.size2) : c.getReg(in.rm, in.size2);
        c.setReg(in.reg, in.size, signExtend(v, in.size2) & MASK[in.size]);
    }

    /** LEA: the offset only (no segment base), truncated to the address and operand size. */
    static void lea(Cpu c, Insn in) {
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

    static void xchg(Cpu c, Insn in) {
        long addr = c.rmAddress(in);
        long t = c.readRm(in, addr);
        c.writeRm(in, addr, c.getReg(in.reg, in.size));
        c.setReg(in.reg, in.size, t);
    }

    static void cmov(Cpu c, Insn in) {
        long v = c.readRm(in);
        if (LazyFlags.cond(c, in.ext)) {
            c.setReg(in.reg, in.size, v);
        } else if (in.size == 4) {
            c.r[in.reg] &= M32; // a 32-bit CMOV always zero-extends its destination
        }
    }

    static void setcc(Cpu c, Insn in) {
        c.writeRm(in, LazyFlags.cond(c, in.ext) ? 1 : 0);
    }

    static void pushR(Cpu c, Insn in) {
        c.push(c.getReg(in.reg, in.size), in.size);
    }

    static void popR(Cpu c, Insn in) {
        c.setReg(in.reg, in.size, c.pop(in.size));
    }

    static void pushI(Cpu c, Insn in) {
        c.push(in.imm, in.size);
    }

    static void pushRm(Cpu c, Insn in) {
        c.push(c.readRm(in), in.size);
    }

    /** POP r/m: the destination address is computed with the incremented RSP (SDM POP). */
    static void popRm(Cpu c, Insn in) {
        long v = c.load(c.r[Cpu.RSP], in.size);
        c.r[Cpu.RSP] += in.size;
        try {
            c.writeRm(in, v);
        } catch (CpuFault f) {
            c.r[Cpu.RSP] -= in.size;
            throw f;
        }
    }

    /** CBW/CWDE/CDQE: sign-extend the low half of the accumulator into all of it. */
    static void cbw(Cpu c, Insn in) {
        long[] r = c.r;
        switch (in.size) {
            case 2 -> c.setReg(Cpu.RAX, 2, signExtend(r[Cpu.RAX] & 0xFF, 1));
            case 4 -> c.setReg(Cpu.RAX, 4, signExtend(r[Cpu.RAX] & 0xFFFF, 2));
            default -> r[Cpu.RAX] = signExtend(r[Cpu.RAX] & M32, 4);
        }
    }

    /** CWD/CDQ/CQO: fill rDX with the accumulator's sign. */
    static void cwd(Cpu c, Insn in) {
        long neg = (c.getReg(Cpu.RAX, in.size) & SIGN[in.size]) != 0 ? -1L : 0;
        c.setReg(Cpu.RDX, in.size, neg & MASK[in.size]);
    }

    static void bswap(Cpu c, Insn in) {
        long[] r = c.r;
        switch (in.size) {
            case 8 -> r[in.reg] = Long.reverseBytes(r[in.reg]);
            case 4 -> r[in.reg] = Integer.reverseBytes((int) r[in.reg]) & M32;
            default -> c.setReg(in.reg, 2, 0); // undefined for 16-bit operands; zero here
        }
    }

    // ------------------------------------------------------------------ fast forms

    /** The handler for a data-transfer form, or null when the reference executor runs it. */
    static Handler select(Insn in) {
        boolean wide = in.size == 8 || in.size == 4;
        switch (in.op) {
            case Op.MOV_R_RM:
                if (!in.mem) {
                    return in.size == 8 ? MOV_RR64 : in.size == 4 ? MOV_RR32 : null;
                }
                return in.size == 8 ? LOAD64 : in.size == 4 ? LOAD32 : null;
            case Op.MOV_RM_R:
                if (!in.mem) {
                    return in.size == 8 ? MOV_RR64_STORE_FORM : in.size == 4 ? MOV_RR32_STORE_FORM : null;
                }
                return in.size == 8 ? STORE64 : in.size == 4 ? STORE32 : null;
            case Op.MOV_RM_I:
                return !in.mem && wide ? MOV_RI : null;
            case Op.LEA:
                return LEA;
            case Op.PUSH_R:
                return in.size == 8 ? PUSH64 : null;
            case Op.POP_R:
                return in.size == 8 ? POP64 : null;
            case Op.MOVZX:
                return in.mem && in.size2 == 1 && wide ? MOVZX_B_LOAD : null;
            default:
                return null;
        }
    }

    private static long load64(Cpu c, long a) {
        GuestMemory m = c.memory();
        if (c.paging.enabled || !m.inBounds(a, 8)) {
            return c.load(a, 8); // translates, or raises #PF
        }
        return m.read64(a);
    }

    private static long load32(Cpu c, long a) {
        GuestMemory m = c.memory();
        if (c.paging.enabled || !m.inBounds(a, 4)) {
            return c.load(a, 4);
        }
        return m.read32(a);
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
    /** MOV r/m, reg (opcode 89) with a register destination. */
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
    static final Handler LEA = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            lea(c, in);
        }
    };
    static final Handler MOVZX_B_LOAD = new Handler() {
        @Override
        void exec(Cpu c, Insn in) {
            c.r[in.reg] = c.load(c.ea(in), 1);
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
