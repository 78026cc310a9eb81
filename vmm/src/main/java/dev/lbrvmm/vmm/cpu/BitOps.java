package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.CF;
import static dev.lbrvmm.vmm.cpu.Cpu.ZF;
import static dev.lbrvmm.vmm.cpu.OperandSize.signExtend;

/** Bit instructions: BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT and POPCNT. */
final class BitOps {
    private BitOps() {}

    /** BT variants: the ModRM.reg extension of 0F BA minus 4, and the Insn.ext of 0F A3/AB/B3/BB. */
    static final int BT = 0, BTS = 1, BTR = 2, BTC = 3;

    /** BT, BTS, BTR, BTC: CF = the selected bit; OF, SF, AF, PF undefined (kept here). */
    static void bitTest(Cpu c, Insn in) {
        int size = in.size;
        int bits = size * 8;
        long off = in.op == Op.BT_I ? in.imm : c.getReg(in.reg, size);
        long addr = 0;
        long v;
        if (in.mem) {
            addr = c.ea(in);
            if (in.op == Op.BT_R) {
                // A register bit offset addresses a bit string: it may select another operand-sized word.
                addr += (signExtend(off, size) >> (Integer.numberOfTrailingZeros(bits))) * size;
            }
            v = c.load(addr, size);
        } else {
            v = c.getReg(in.rm, size);
        }
        int bit = (int) (off & (bits - 1));
        boolean selected = ((v >>> bit) & 1) != 0;
        switch (in.ext) {
            case BTS -> v |= 1L << bit;
            case BTR -> v &= ~(1L << bit);
            case BTC -> v ^= 1L << bit;
            default -> { }
        }
        if (in.ext != BT) {
            c.writeRm(in, addr, v);
        }
        LazyFlags.setCfOf(c, selected, false, false);
    }

    /** BSF, BSR: ZF = source is 0 (destination left unchanged then); other flags undefined (kept). */
    static void bitScan(Cpu c, Insn in) {
        long v = c.readRm(in);
        long f = LazyFlags.materialize(c) & ~ZF;
        if (v == 0) {
            f |= ZF;
        } else {
            c.setReg(in.reg, in.size, in.op == Op.BSF ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v));
        }
        LazyFlags.setExplicit(c, f);
    }

    /** TZCNT, LZCNT: CF = source is 0, ZF = result is 0; others undefined (kept). */
    static void count(Cpu c, Insn in) {
        long v = c.readRm(in);
        int bits = in.size * 8;
        long res = v == 0 ? bits
                : in.op == Op.TZCNT ? Long.numberOfTrailingZeros(v) : Long.numberOfLeadingZeros(v) - (64 - bits);
        c.setReg(in.reg, in.size, res);
        long f = LazyFlags.materialize(c) & ~(CF | ZF);
        LazyFlags.setExplicit(c, f | (v == 0 ? CF : 0) | (res == 0 ? ZF : 0));
    }

    /** POPCNT: ZF = source is 0, every other arithmetic flag cleared. */
    static void popcnt(Cpu c, Insn in) {
        long v = c.readRm(in);
        c.setReg(in.reg, in.size, Long.bitCount(v));
        LazyFlags.setExplicit(c, v == 0 ? ZF : 0);
    }
}
