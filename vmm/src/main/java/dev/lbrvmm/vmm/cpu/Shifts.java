package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.OperandSize.MASK;
import static dev.lbrvmm.vmm.cpu.OperandSize.SIGN;
import static dev.lbrvmm.vmm.cpu.OperandSize.signExtend;

/**
 * Shifts and rotates (group 2: ROL ROR RCL RCR SHL SHR SAL SAR by 1, imm8 or CL) and the
 * double-precision shifts SHLD/SHRD. A count that masks to 0 changes no flag; OF is defined by the
 * SDM only for 1-bit shifts and is computed by the same rule for every count here.
 */
final class Shifts {
    private Shifts() {}

    /** Group 2 operations: the ModRM.reg extension of opcodes C0, C1, D0-D3. */
    static final int ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;
    /** Where SHLD/SHRD take their count from (Insn.ext). */
    static final int COUNT_IMM = 0, COUNT_CL = 1;

    static void shiftImm(Cpu c, Insn in) {
        shift(c, in, (int) in.imm);
    }

    static void shiftCl(Cpu c, Insn in) {
        shift(c, in, (int) c.r[Cpu.RCX]);
    }

    private static void shift(Cpu c, Insn in, int rawCount) {
        int size = in.size;
        int count = rawCount & (size == 8 ? 63 : 31);
        if (count == 0) {
            zeroCount(c, in, size);
            return;
        }
        int bits = size * 8;
        long m = MASK[size];
        long sign = SIGN[size];
        long addr = c.rmAddress(in);
        long a = c.readRm(in, addr);
        long res;
        switch (in.ext) {
            case ROL -> {
                int n = count % bits;
                res = n == 0 ? a : ((a << n) | (a >>> (bits - n))) & m;
                boolean cf = (res & 1) != 0;
                LazyFlags.setCfOf(c, cf, ((res & sign) != 0) != cf, true);
            }
            case ROR -> {
                int n = count % bits;
                res = n == 0 ? a : ((a >>> n) | (a << (bits - n))) & m;
                boolean msb = (res & sign) != 0;
                LazyFlags.setCfOf(c, msb, msb != ((res & (sign >>> 1)) != 0), true);
            }
            case RCL, RCR -> { // rotate through carry, one bit at a time (rare)
                int n = size <= 2 ? count % (bits + 1) : count;
                boolean carry = LazyFlags.cf(c);
                res = a;
                for (int k = 0; k < n; k++) {
                    if (in.ext == RCL) {
                        boolean out = (res & sign) != 0;
                        res = ((res << 1) | (carry ? 1 : 0)) & m;
                        carry = out;
                    } else {
                        boolean out = (res & 1) != 0;
                        res = (res >>> 1) | (carry ? sign : 0);
                        carry = out;
                    }
                }
                boolean of = in.ext == RCL ? ((res & sign) != 0) != carry
                        : ((res & sign) != 0) != ((res & (sign >>> 1)) != 0);
                LazyFlags.setCfOf(c, carry, of, true);
            }
            case SHR -> {
                res = count >= bits ? 0 : a >>> count;
                boolean cf = count <= bits && ((a >>> (count - 1)) & 1) != 0;
                LazyFlags.setShift(c, res, size, cf, (a & sign) != 0);
            }
            case SAR -> {
                long s = signExtend(a, size);
                res = (s >> Math.min(count, 63)) & m;
                boolean cf = ((s >> Math.min(count - 1, 63)) & 1) != 0;
                LazyFlags.setShift(c, res, size, cf, false);
            }
            default -> { // SHL, SAL
                res = count >= bits ? 0 : (a << count) & m;
                boolean cf = count <= bits && ((a >>> (bits - count)) & 1) != 0;
                LazyFlags.setShift(c, res, size, cf, ((res & sign) != 0) != cf);
            }
        }
        c.writeRm(in, addr, res);
    }

    /** SHLD and SHRD: shift the destination, filling from the source register. */
    /**
     * A masked count of 0 leaves the flags and a memory destination alone, but a 32-bit register
     * destination is still written, which zero-extends it like any 32-bit result.
     */
    private static void zeroCount(Cpu c, Insn in, int size) {
        if (!in.mem && size == 4) {
            c.r[in.rm] &= 0xFFFF_FFFFL;
        }
    }

    static void doubleShift(Cpu c, Insn in) {
        int size = in.size;
        int count = (int) (in.ext == COUNT_IMM ? in.imm : c.r[Cpu.RCX]) & (size == 8 ? 63 : 31);
        if (count == 0) {
            zeroCount(c, in, size);
            return;
        }
        int bits = size * 8;
        long m = MASK[size];
        long sign = SIGN[size];
        long addr = c.rmAddress(in);
        long d = c.readRm(in, addr);
        long s = c.getReg(in.reg, size);
        if (count > bits) {
            count %= bits; // undefined for 16-bit operands; reduce like a rotate
            if (count == 0) {
                return;
            }
        }
        long res;
        boolean cf;
        if (in.op == Op.SHLD) {
            res = count == bits ? s : ((d << count) | (s >>> (bits - count))) & m;
            cf = ((d >>> (bits - count)) & 1) != 0;
        } else {
            res = count == bits ? s : ((d >>> count) | (s << (bits - count))) & m;
            cf = ((d >>> (count - 1)) & 1) != 0;
        }
        LazyFlags.setShift(c, res, size, cf, ((res ^ d) & sign) != 0);
        c.writeRm(in, addr, res);
    }
}
