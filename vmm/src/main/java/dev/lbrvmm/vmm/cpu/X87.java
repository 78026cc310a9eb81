package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.CF;
import static dev.lbrvmm.vmm.cpu.Cpu.PF;
import static dev.lbrvmm.vmm.cpu.Cpu.ZF;

/**
 * The x87 floating-point unit, the subset gcc emits for {@code double} arithmetic without SSE
 * (-mno-sse -mno-sse2): loads and stores of 32/64/80-bit reals and 16/32/64-bit integers, FXCH,
 * the four operations in every operand form with their popping and reversed variants, FCHS, FABS,
 * FLDZ/FLD1, the comparisons (FCOM/FUCOM into C0/C2/C3, FCOMI/FUCOMI into EFLAGS), FCMOVcc,
 * FNSTSW, FNSTCW/FLDCW (the rounding control applies to FIST/FISTP), FNINIT and FNCLEX.
 *
 * <p>An 8-register stack with TOP and empty tags. Values are IEEE doubles: the 80-bit extended
 * precision of real hardware is not modelled (results round to double after every operation,
 * and FLD/FSTP m80 convert), and stack overflow/underflow only set the invalid-operation flag.
 */
final class X87 {
    private X87() {}

    /** FPU status word bits. */
    static final int SW_IE = 1, SW_SF = 1 << 6, SW_C0 = 1 << 8, SW_C1 = 1 << 9, SW_C2 = 1 << 10, SW_C3 = 1 << 14;
    static final int CW_DEFAULT = 0x37F;

    /** The FPU's architectural state. */
    static final class State {
        final double[] regs = new double[8];
        int top;
        /** Bit i: physical register i is empty. */
        int empty = 0xFF;
        int cw = CW_DEFAULT;
        int sw;

        void reset() {
            java.util.Arrays.fill(regs, 0);
            top = 0;
            empty = 0xFF;
            cw = CW_DEFAULT;
            sw = 0;
        }

        double st(int i) {
            int p = (top + i) & 7;
            if ((empty & (1 << p)) != 0) {
                sw |= SW_IE | SW_SF; // stack underflow: the masked response is the QNaN indefinite
                return Double.NaN;
            }
            return regs[p];
        }

        void set(int i, double v) {
            int p = (top + i) & 7;
            regs[p] = v;
            empty &= ~(1 << p);
        }

        void push(double v) {
            top = (top - 1) & 7;
            if ((empty & (1 << top)) == 0) {
                sw |= SW_IE | SW_SF | SW_C1; // stack overflow
                v = Double.NaN;
            }
            regs[top] = v;
            empty &= ~(1 << top);
        }

        double pop() {
            double v = st(0);
            empty |= 1 << top;
            top = (top + 1) & 7;
            return v;
        }

        int statusWord() {
            return (sw & ~(7 << 11)) | (top << 11);
        }
    }

    /** Executes one x87 instruction: Insn.ext = (opcode & 7) << 3 | ModRM.reg, Insn.rm = ST(i) for register forms. */
    static void exec(Cpu c, Insn in) {
        State f = c.x87;
        int opcode = 0xD8 | (in.ext >> 3);
        int reg = in.ext & 7;
        if (in.mem) {
            memoryForm(c, f, in, opcode, reg);
        } else {
            registerForm(c, f, in, opcode, reg, in.rm & 7);
        }
    }

    private static void memoryForm(Cpu c, State f, Insn in, int opcode, int reg) {
        long a = c.ea(in);
        switch (opcode) {
            case 0xD8 -> arith(f, reg, Float.intBitsToFloat((int) c.load(a, 4)));
            case 0xDC -> arith(f, reg, Double.longBitsToDouble(c.load(a, 8)));
            case 0xDA -> arith(f, reg, (int) c.load(a, 4));
            case 0xDE -> arith(f, reg, (short) c.load(a, 2));
            case 0xD9 -> {
                switch (reg) {
                    case 0 -> f.push(Float.intBitsToFloat((int) c.load(a, 4)));
                    case 2 -> c.store(a, 4, Float.floatToRawIntBits((float) f.st(0)));
                    case 3 -> c.store(a, 4, Float.floatToRawIntBits((float) f.pop()));
                    case 5 -> f.cw = (int) c.load(a, 2);
                    case 7 -> c.store(a, 2, f.cw);
                    default -> throw CpuFault.ud(); // FLDENV/FNSTENV are not modelled
                }
            }
            case 0xDD -> {
                switch (reg) {
                    case 0 -> f.push(Double.longBitsToDouble(c.load(a, 8)));
                    case 2 -> c.store(a, 8, Double.doubleToRawLongBits(f.st(0)));
                    case 3 -> c.store(a, 8, Double.doubleToRawLongBits(f.pop()));
                    case 7 -> c.store(a, 2, f.statusWord());
                    default -> throw CpuFault.ud(); // FRSTOR/FNSAVE are not modelled
                }
            }
            case 0xDB -> {
                switch (reg) {
                    case 0 -> f.push((int) c.load(a, 4));
                    case 2 -> c.store(a, 4, toInteger(f, f.st(0), 32));
                    case 3 -> c.store(a, 4, toInteger(f, f.pop(), 32));
                    case 5 -> f.push(fromExtended(c.load(a, 8), (int) c.load(a + 8, 2)));
                    case 7 -> {
                        double v = f.st(0);
                        long[] ext = toExtended(v);
                        c.store(a, 8, ext[0]);
                        c.store(a + 8, 2, ext[1]);
                        f.pop();
                    }
                    default -> throw CpuFault.ud();
                }
            }
            default -> { // DF
                switch (reg) {
                    case 0 -> f.push((short) c.load(a, 2));
                    case 2 -> c.store(a, 2, toInteger(f, f.st(0), 16));
                    case 3 -> c.store(a, 2, toInteger(f, f.pop(), 16));
                    case 5 -> f.push((double) c.load(a, 8));
                    case 7 -> c.store(a, 8, toInteger(f, f.pop(), 64));
                    default -> throw CpuFault.ud(); // FBLD/FBSTP are not modelled
                }
            }
        }
    }

    private static void registerForm(Cpu c, State f, Insn in, int opcode, int reg, int i) {
        switch (opcode) {
            case 0xD8 -> arith(f, reg, f.st(i));
            case 0xDC -> arithToSti(f, reg, i, false);
            case 0xDE -> {
                if (reg == 3 && i == 1) { // FCOMPP
                    compare(f, f.st(0), f.st(1));
                    f.pop();
                    f.pop();
                } else {
                    arithToSti(f, reg, i, true);
                }
            }
            case 0xD9 -> {
                switch (reg) {
                    case 0 -> f.push(f.st(i)); // FLD ST(i)
                    case 1 -> { // FXCH
                        double t = f.st(0);
                        f.set(0, f.st(i));
                        f.set(i, t);
                    }
                    case 4 -> {
                        switch (i) {
                            case 0 -> f.set(0, -f.st(0)); // FCHS
                            case 1 -> f.set(0, Math.abs(f.st(0))); // FABS
                            case 4 -> compare(f, f.st(0), 0.0); // FTST
                            default -> throw CpuFault.ud();
                        }
                    }
                    case 5 -> {
                        switch (i) {
                            case 0 -> f.push(1.0); // FLD1
                            case 6 -> f.push(0.0); // FLDZ
                            default -> throw CpuFault.ud(); // FLDL2T, FLDPI, ... are not modelled
                        }
                    }
                    default -> throw CpuFault.ud();
                }
            }
            case 0xDA -> {
                if (reg == 5 && i == 1) { // FUCOMPP
                    compare(f, f.st(0), f.st(1));
                    f.pop();
                    f.pop();
                    return;
                }
                if (reg < 4 && fcmovCondition(c, reg)) { // FCMOVB, FCMOVE, FCMOVBE, FCMOVU
                    f.set(0, f.st(i));
                } else if (reg >= 4) {
                    throw CpuFault.ud();
                }
            }
            case 0xDB -> {
                switch (reg) {
                    case 0, 1, 2, 3 -> { // FCMOVNB, FCMOVNE, FCMOVNBE, FCMOVNU
                        if (!fcmovCondition(c, reg)) {
                            f.set(0, f.st(i));
                        }
                    }
                    case 4 -> {
                        if (i == 2) {
                            f.sw &= ~0x80FF; // FNCLEX
                        } else if (i == 3) {
                            f.reset(); // FNINIT
                        } else {
                            throw CpuFault.ud();
                        }
                    }
                    case 5, 6 -> compareEflags(c, f.st(0), f.st(i)); // FUCOMI, FCOMI
                    default -> throw CpuFault.ud();
                }
            }
            case 0xDD -> {
                switch (reg) {
                    case 0 -> f.empty |= 1 << ((f.top + i) & 7); // FFREE
                    case 2 -> f.set(i, f.st(0)); // FST ST(i)
                    case 3 -> { // FSTP ST(i)
                        f.set(i, f.st(0));
                        f.pop();
                    }
                    case 4 -> compare(f, f.st(0), f.st(i)); // FUCOM
                    case 5 -> { // FUCOMP
                        compare(f, f.st(0), f.st(i));
                        f.pop();
                    }
                    default -> throw CpuFault.ud();
                }
            }
            default -> { // DF
                switch (reg) {
                    case 4 -> {
                        if (i != 0) {
                            throw CpuFault.ud();
                        }
                        c.setReg(Cpu.RAX, 2, f.statusWord()); // FNSTSW AX
                    }
                    case 5, 6 -> { // FUCOMIP, FCOMIP
                        compareEflags(c, f.st(0), f.st(i));
                        f.pop();
                    }
                    default -> throw CpuFault.ud();
                }
            }
        }
    }

    /** D8-style: ST(0) = ST(0) op src; reg 0 FADD, 1 FMUL, 2 FCOM, 3 FCOMP, 4 FSUB, 5 FSUBR, 6 FDIV, 7 FDIVR. */
    private static void arith(State f, int reg, double src) {
        double a = f.st(0);
        switch (reg) {
            case 0 -> f.set(0, a + src);
            case 1 -> f.set(0, a * src);
            case 2 -> compare(f, a, src);
            case 3 -> {
                compare(f, a, src);
                f.pop();
            }
            case 4 -> f.set(0, a - src);
            case 5 -> f.set(0, src - a);
            case 6 -> f.set(0, a / src);
            default -> f.set(0, src / a);
        }
    }

    /**
     * DC/DE register forms: ST(i) = ST(i) op ST(0) (then pop for DE). The SDM names reg 4 FSUBR
     * (ST(0) - ST(i)), 5 FSUB (ST(i) - ST(0)), 6 FDIVR (ST(0) / ST(i)), 7 FDIV (ST(i) / ST(0)).
     */
    private static void arithToSti(State f, int reg, int i, boolean pop) {
        double d = f.st(i), s = f.st(0);
        double r = switch (reg) {
            case 0 -> d + s;
            case 1 -> d * s;
            case 4 -> s - d;
            case 5 -> d - s;
            case 6 -> s / d;
            case 7 -> d / s;
            default -> throw CpuFault.ud(); // FCOM2/FCOMP3 aliases are not modelled
        };
        f.set(i, r);
        if (pop) {
            f.pop();
        }
    }

    /** FCOM/FUCOM: C3, C2, C0 = 000 greater, 001 less, 100 equal, 111 unordered. */
    private static void compare(State f, double a, double b) {
        f.sw &= ~(SW_C0 | SW_C2 | SW_C3 | SW_C1);
        if (Double.isNaN(a) || Double.isNaN(b)) {
            f.sw |= SW_C0 | SW_C2 | SW_C3;
        } else if (a < b) {
            f.sw |= SW_C0;
        } else if (a == b) {
            f.sw |= SW_C3;
        }
    }

    /** FCOMI/FUCOMI: ZF, PF, CF as C3, C2, C0 would be; OF, SF, AF cleared. */
    private static void compareEflags(Cpu c, double a, double b) {
        long flags;
        if (Double.isNaN(a) || Double.isNaN(b)) {
            flags = ZF | PF | CF;
        } else if (a < b) {
            flags = CF;
        } else if (a == b) {
            flags = ZF;
        } else {
            flags = 0;
        }
        LazyFlags.setExplicit(c, flags);
    }

    /** FCMOVcc conditions 0 B (CF), 1 E (ZF), 2 BE (CF or ZF), 3 U (PF); the DB forms negate them. */
    private static boolean fcmovCondition(Cpu c, int reg) {
        return switch (reg) {
            case 0 -> LazyFlags.cf(c);
            case 1 -> LazyFlags.zf(c);
            case 2 -> LazyFlags.cf(c) || LazyFlags.zf(c);
            default -> LazyFlags.pf(c);
        };
    }

    /** FIST/FISTP: rounds as FCW.RC says; NaN, infinities and out-of-range values give the integer indefinite. */
    private static long toInteger(State f, double v, int bits) {
        double r = switch ((f.cw >> 10) & 3) {
            case 0 -> Math.rint(v);
            case 1 -> Math.floor(v);
            case 2 -> Math.ceil(v);
            default -> v < 0 ? Math.ceil(v) : Math.floor(v);
        };
        double max = Math.scalb(1.0, bits - 1);
        if (Double.isNaN(r) || r >= max || r < -max) {
            f.sw |= SW_IE;
            return bits == 64 ? Long.MIN_VALUE : 1L << (bits - 1);
        }
        return (long) r;
    }

    /** An 80-bit extended real (64-bit significand with explicit integer bit, 15-bit exponent) as a double. */
    static double fromExtended(long significand, int signExp) {
        boolean negative = (signExp & 0x8000) != 0;
        int exp = signExp & 0x7FFF;
        double v;
        if (exp == 0x7FFF) {
            v = (significand << 1) == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (significand == 0) {
            v = 0.0;
        } else {
            // value = significand * 2^(exp - 16383 - 63); the significand is unsigned
            double m = (significand >>> 11) * 0x1p11 + (significand & 0x7FF);
            v = Math.scalb(m, exp - 16383 - 63);
        }
        return negative ? -v : v;
    }

    /** A double as an 80-bit extended real: {significand, sign and exponent}. */
    static long[] toExtended(double v) {
        long bits = Double.doubleToRawLongBits(v);
        long sign = (bits >>> 63) << 15;
        int exp = (int) (bits >>> 52) & 0x7FF;
        long frac = bits & 0xF_FFFF_FFFF_FFFFL;
        if (exp == 0x7FF) {
            return new long[] {frac == 0 ? 1L << 63 : 0xC000_0000_0000_0000L, sign | 0x7FFF};
        }
        if (exp == 0 && frac == 0) {
            return new long[] {0, sign};
        }
        if (exp == 0) { // subnormal double: normalise
            int shift = Long.numberOfLeadingZeros(frac) - 11;
            frac <<= shift;
            exp = 1 - shift;
            frac &= 0xF_FFFF_FFFF_FFFFL;
        }
        long significand = (1L << 63) | (frac << 11);
        return new long[] {significand, sign | (exp - 1023 + 16383)};
    }
}
