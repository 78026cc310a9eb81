package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.OperandSize.MASK;
import static dev.lbrvmm.vmm.cpu.OperandSize.signExtend;

/**
 * Multiply and divide: MUL and one-operand IMUL (double-width product in rDX:rAX), the two- and
 * three-operand IMUL forms (truncated product), DIV and IDIV with their #DE cases. Multiplies set
 * CF = OF = "the product did not fit"; SF, ZF, PF are undefined by the SDM and follow the low half
 * here; AF is 0. Divides leave every flag undefined: they keep them as they were.
 */
final class MulDiv {
    private MulDiv() {}

    private static final long M32 = 0xFFFF_FFFFL;

    /** MUL and IMUL with one operand (Op.MUL, Op.IMUL1). */
    static void mulWide(Cpu c, Insn in) {
        long[] r = c.r;
        long src = c.readRm(in);
        boolean signed = in.op == Op.IMUL1;
        boolean over;
        long low;
        switch (in.size) {
            case 1 -> {
                long p = signed ? signExtend(r[Cpu.RAX] & 0xFF, 1) * signExtend(src, 1) : (r[Cpu.RAX] & 0xFF) * src;
                c.setReg(Cpu.RAX, 2, p);
                over = signed ? p != signExtend(p & 0xFF, 1) : (p >>> 8) != 0;
                low = p & 0xFF;
            }
            case 2 -> {
                long p = signed ? signExtend(r[Cpu.RAX] & 0xFFFF, 2) * signExtend(src, 2) : (r[Cpu.RAX] & 0xFFFF) * src;
                c.setReg(Cpu.RAX, 2, p);
                c.setReg(Cpu.RDX, 2, p >>> 16);
                over = signed ? p != signExtend(p & 0xFFFF, 2) : ((p >>> 16) & 0xFFFF) != 0;
                low = p & 0xFFFF;
            }
            case 4 -> {
                long p = signed ? signExtend(r[Cpu.RAX] & M32, 4) * signExtend(src, 4) : (r[Cpu.RAX] & M32) * src;
                r[Cpu.RAX] = p & M32;
                r[Cpu.RDX] = (p >>> 32) & M32;
                over = signed ? p != signExtend(p & M32, 4) : (p >>> 32) != 0;
                low = p & M32;
            }
            default -> {
                long a = r[Cpu.RAX];
                long lo = a * src;
                long hi = Math.multiplyHigh(a, src);
                if (!signed) {
                    hi += ((a >> 63) & src) + ((src >> 63) & a);
                }
                r[Cpu.RAX] = lo;
                r[Cpu.RDX] = hi;
                over = signed ? hi != (lo >> 63) : hi != 0;
                low = lo;
            }
        }
        LazyFlags.setShift(c, low, in.size, over, over);
    }

    /** IMUL reg, r/m. */
    static void imulRRm(Cpu c, Insn in) {
        c.setReg(in.reg, in.size, imulTruncated(c, c.getReg(in.reg, in.size), c.readRm(in), in.size));
    }

    /** IMUL reg, r/m, imm. */
    static void imulRRmI(Cpu c, Insn in) {
        c.setReg(in.reg, in.size, imulTruncated(c, c.readRm(in), in.imm, in.size));
    }

    private static long imulTruncated(Cpu c, long a, long b, int size) {
        long res;
        boolean over;
        if (size == 8) {
            res = a * b;
            over = Math.multiplyHigh(a, b) != (res >> 63);
        } else {
            long p = signExtend(a, size) * signExtend(b, size);
            res = p & MASK[size];
            over = p != signExtend(res, size);
        }
        LazyFlags.setShift(c, res, size, over, over);
        return res;
    }

    static void div(Cpu c, Insn in) {
        long[] r = c.r;
        long d = c.readRm(in);
        if (d == 0) {
            throw CpuFault.de();
        }
        switch (in.size) {
            case 1 -> {
                long n = r[Cpu.RAX] & 0xFFFF;
                long q = n / d;
                if (q > 0xFF) {
                    throw CpuFault.de();
                }
                c.setReg(Cpu.RAX, 2, ((n % d) << 8) | q);
            }
            case 2 -> {
                long n = ((r[Cpu.RDX] & 0xFFFF) << 16) | (r[Cpu.RAX] & 0xFFFF);
                long q = n / d;
                if (q > 0xFFFF) {
                    throw CpuFault.de();
                }
                c.setReg(Cpu.RAX, 2, q);
                c.setReg(Cpu.RDX, 2, n % d);
            }
            case 4 -> {
                long n = ((r[Cpu.RDX] & M32) << 32) | (r[Cpu.RAX] & M32);
                long q = Long.divideUnsigned(n, d);
                if (Long.compareUnsigned(q, M32) > 0) {
                    throw CpuFault.de();
                }
                r[Cpu.RAX] = q;
                r[Cpu.RDX] = Long.remainderUnsigned(n, d);
            }
            default -> {
                long hi = r[Cpu.RDX];
                if (Long.compareUnsigned(hi, d) >= 0) {
                    throw CpuFault.de();
                }
                long lo = r[Cpu.RAX];
                long q = divide128(hi, lo, d);
                r[Cpu.RAX] = q;
                r[Cpu.RDX] = lo - q * d; // exact: the remainder is below d
            }
        }
    }

    static void idiv(Cpu c, Insn in) {
        long[] r = c.r;
        long d = signExtend(c.readRm(in), in.size);
        if (d == 0) {
            throw CpuFault.de();
        }
        switch (in.size) {
            case 1 -> {
                long n = signExtend(r[Cpu.RAX] & 0xFFFF, 2);
                long q = n / d;
                if (q < -128 || q > 127) {
                    throw CpuFault.de();
                }
                c.setReg(Cpu.RAX, 2, (((n % d) & 0xFF) << 8) | (q & 0xFF));
            }
            case 2 -> {
                long n = signExtend(((r[Cpu.RDX] & 0xFFFF) << 16) | (r[Cpu.RAX] & 0xFFFF), 4);
                long q = n / d;
                if (q < Short.MIN_VALUE || q > Short.MAX_VALUE) {
                    throw CpuFault.de();
                }
                c.setReg(Cpu.RAX, 2, q);
                c.setReg(Cpu.RDX, 2, n % d);
            }
            case 4 -> {
                long n = (r[Cpu.RDX] << 32) | (r[Cpu.RAX] & M32);
                if (n == Long.MIN_VALUE && d == -1) {
                    throw CpuFault.de();
                }
                long q = n / d;
                if (q < Integer.MIN_VALUE || q > Integer.MAX_VALUE) {
                    throw CpuFault.de();
                }
                r[Cpu.RAX] = q & M32;
                r[Cpu.RDX] = (n % d) & M32;
            }
            default -> {
                long hi = r[Cpu.RDX];
                long lo = r[Cpu.RAX];
                boolean negN = hi < 0;
                if (negN) { // 128-bit negate
                    lo = -lo;
                    hi = ~hi + (lo == 0 ? 1 : 0);
                }
                boolean negD = d < 0;
                long ad = negD ? -d : d; // unsigned magnitude (MIN_VALUE stays 2^63)
                if (Long.compareUnsigned(hi, ad) >= 0) {
                    throw CpuFault.de();
                }
                long q = divide128(hi, lo, ad);
                long rem = lo - q * ad;
                boolean negQ = negN != negD;
                if (negQ ? Long.compareUnsigned(q, Long.MIN_VALUE) > 0 : q < 0) {
                    throw CpuFault.de();
                }
                r[Cpu.RAX] = negQ ? -q : q;
                r[Cpu.RDX] = negN ? -rem : rem;
            }
        }
    }

    /** Unsigned (hi:lo) / d with hi < d (so the quotient fits 64 bits). */
    static long divide128(long hi, long lo, long d) {
        if (hi == 0) {
            return Long.divideUnsigned(lo, d);
        }
        long rem = hi;
        long quo = lo;
        for (int i = 0; i < 64; i++) {
            boolean carry = rem < 0;
            rem = (rem << 1) | (quo >>> 63);
            quo <<= 1;
            if (carry || Long.compareUnsigned(rem, d) >= 0) {
                rem -= d;
                quo |= 1;
            }
        }
        return quo;
    }
}
