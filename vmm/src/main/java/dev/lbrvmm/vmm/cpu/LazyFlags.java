package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.AF;
import static dev.lbrvmm.vmm.cpu.Cpu.CF;
import static dev.lbrvmm.vmm.cpu.Cpu.OF;
import static dev.lbrvmm.vmm.cpu.Cpu.PF;
import static dev.lbrvmm.vmm.cpu.Cpu.SF;
import static dev.lbrvmm.vmm.cpu.Cpu.ZF;
import static dev.lbrvmm.vmm.cpu.OperandSize.SIGN;
import static dev.lbrvmm.vmm.cpu.OperandSize.below;
import static dev.lbrvmm.vmm.cpu.OperandSize.signExtend;

/**
 * The six arithmetic flags, computed lazily (after blink and Bochs): an instruction that sets them
 * records its flag kind, operand size, operands and result in the CPU ({@code fKind, fSize, fA,
 * fB, fRes, fAux}); each flag is derived only when something reads it. A Jcc after a CMP compares
 * the kept operands directly.
 *
 * <p>How each kind defines each flag (SDM vol. 1 appendix A, and each instruction's page):
 * <pre>
 * kind      CF                       OF                            AF                 ZF, SF, PF
 * LOGIC     0                        0                             0 (undefined)      from the result
 * ADD       result &lt; a (unsigned)   a, b same sign, result other  bit 4 of a^b^res   from the result
 * ADC       as ADD; res &lt;= a if c   as ADD                        as ADD             from the result
 * SUB       a &lt; b (unsigned)        a, b differ, result sign != a as ADD             from the result
 * SBB       as SUB; a &lt;= b if c    as SUB                        as ADD             from the result
 * INC, DEC  unchanged (fAux)         as ADD / SUB with b = 1       as ADD             from the result
 * SHIFT     fAux bit CF              fAux bit OF                   0 (undefined)      from the result
 * EXPLICIT  every flag is a bit of fAux (POPF, SAHF, BT, rotates, BSF, ...)
 * </pre>
 * (fAux for ADC/SBB holds the carry-in; for INC/DEC the carry before the instruction.)
 */
final class LazyFlags {
    private LazyFlags() {}

    /** Flag kinds: which rule derives the flags from the kept operands. */
    static final int LOGIC = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, INC = 5, DEC = 6, SHIFT = 7, EXPLICIT = 8;

    /** The six arithmetic flags as RFLAGS bits. */
    static final long ARITH = CF | PF | AF | ZF | SF | OF;

    /** Records the operands and result of a flag-setting instruction. */
    static void set(Cpu c, int kind, long a, long b, long res, int size) {
        c.fKind = kind;
        c.fA = a;
        c.fB = b;
        c.fRes = res;
        c.fSize = size;
    }

    /**
     * Writes back flags a translated region kept in locals, exactly the fields the instruction that
     * set them writes here: {@link #set} (and fAux for INC/DEC) or {@link #setShift}.
     */
    static void restore(Cpu c, int kind, int size, long a, long b, long res, long aux) {
        c.fKind = kind;
        c.fSize = size;
        c.fRes = res;
        if (kind != SHIFT) {
            c.fA = a;
            c.fB = b;
        }
        if (kind == INC || kind == DEC || kind == SHIFT) {
            c.fAux = aux;
        }
    }

    /** Sets all six flags at once from RFLAGS bits (other bits of {@code flags} are ignored). */
    static void setExplicit(Cpu c, long flags) {
        c.fKind = EXPLICIT;
        c.fAux = flags & ARITH;
    }

    /** The flags of a shift or multiply: CF and OF given, ZF/SF/PF from the result. */
    static void setShift(Cpu c, long res, int size, boolean cf, boolean of) {
        c.fKind = SHIFT;
        c.fRes = res;
        c.fSize = size;
        c.fAux = (cf ? CF : 0) | (of ? OF : 0);
    }

    /** The current flags with CF (and, if {@code setOf}, OF) replaced: BT, rotates, CLC/STC/CMC. */
    static void setCfOf(Cpu c, boolean cf, boolean of, boolean setOf) {
        long f = materialize(c) & ~CF;
        if (cf) {
            f |= CF;
        }
        if (setOf) {
            f = (f & ~OF) | (of ? OF : 0);
        }
        setExplicit(c, f);
    }

    /** The six arithmetic flags as RFLAGS bits. */
    static long materialize(Cpu c) {
        long f = 0;
        if (cf(c)) f |= CF;
        if (pf(c)) f |= PF;
        if (af(c)) f |= AF;
        if (zf(c)) f |= ZF;
        if (sf(c)) f |= SF;
        if (of(c)) f |= OF;
        return f;
    }

    static boolean cf(Cpu c) {
        switch (c.fKind) {
            case LOGIC:
                return false;
            case ADD:
                return below(c.fRes, c.fA);
            case ADC:
                return c.fAux != 0 ? !below(c.fA, c.fRes) : below(c.fRes, c.fA);
            case SUB:
                return below(c.fA, c.fB);
            case SBB:
                return c.fAux != 0 ? !below(c.fB, c.fA) : below(c.fA, c.fB);
            case INC:
            case DEC:
                return c.fAux != 0;
            default:
                return (c.fAux & CF) != 0;
        }
    }

    static boolean zf(Cpu c) {
        return c.fKind == EXPLICIT ? (c.fAux & ZF) != 0 : c.fRes == 0;
    }

    static boolean sf(Cpu c) {
        return c.fKind == EXPLICIT ? (c.fAux & SF) != 0 : (c.fRes & SIGN[c.fSize]) != 0;
    }

    static boolean pf(Cpu c) {
        return c.fKind == EXPLICIT ? (c.fAux & PF) != 0 : (Integer.bitCount((int) c.fRes & 0xFF) & 1) == 0;
    }

    static boolean af(Cpu c) {
        switch (c.fKind) {
            case ADD:
            case ADC:
            case SUB:
            case SBB:
            case INC:
            case DEC:
                return ((c.fA ^ c.fB ^ c.fRes) & 0x10) != 0;
            case EXPLICIT:
                return (c.fAux & AF) != 0;
            default:
                return false;
        }
    }

    static boolean of(Cpu c) {
        long s = SIGN[c.fSize];
        switch (c.fKind) {
            case ADD:
            case ADC:
            case INC:
                return ((c.fA ^ c.fRes) & (c.fB ^ c.fRes) & s) != 0;
            case SUB:
            case SBB:
            case DEC:
                return ((c.fA ^ c.fB) & (c.fA ^ c.fRes) & s) != 0;
            case LOGIC:
                return false;
            default:
                return (c.fAux & OF) != 0;
        }
    }

    /** Condition codes, as numbered in Jcc/SETcc/CMOVcc opcodes; odd codes negate the one before. */
    static final int CC_O = 0, CC_NO = 1, CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7,
            CC_S = 8, CC_NS = 9, CC_P = 10, CC_NP = 11, CC_L = 12, CC_GE = 13, CC_LE = 14, CC_G = 15;

    /** Evaluates condition code cc. After a SUB/CMP the kept operands are compared directly. */
    static boolean cond(Cpu c, int cc) {
        boolean t;
        if (c.fKind == SUB) {
            long a = c.fA, b = c.fB;
            switch (cc >> 1) {
                case CC_B >> 1 -> t = below(a, b);
                case CC_E >> 1 -> t = a == b;
                case CC_BE >> 1 -> t = !below(b, a);
                case CC_L >> 1 -> t = signExtend(a, c.fSize) < signExtend(b, c.fSize);
                case CC_LE >> 1 -> t = signExtend(a, c.fSize) <= signExtend(b, c.fSize);
                default -> t = fromFlags(c, cc >> 1);
            }
        } else {
            t = fromFlags(c, cc >> 1);
        }
        return t ^ ((cc & 1) != 0);
    }

    /** The positive condition {@code pair} (cc >> 1) from the individual flags. */
    private static boolean fromFlags(Cpu c, int pair) {
        switch (pair) {
            case CC_O >> 1:
                return of(c);
            case CC_B >> 1:
                return cf(c);
            case CC_E >> 1:
                return zf(c);
            case CC_BE >> 1:
                return cf(c) || zf(c);
            case CC_S >> 1:
                return sf(c);
            case CC_P >> 1:
                return pf(c);
            case CC_L >> 1:
                return sf(c) != of(c);
            default:
                return zf(c) || sf(c) != of(c);
        }
    }
}
