package dev.lbrvmm.vmm.cpu;

/**
 * LBR record layouts by LBR_FMT (SDM vol. 3B; perf's LBR_FORMAT_* in lbr.c): how an entry's FROM/TO/INFO MSR values encode the
 * source, target, mispredict bit and cycle count, and which written values are valid.
 * Addresses are 48-bit canonical; TSX bits (IN_TX, ABORT) always record as 0 (no TSX is modelled).
 */
public final class LbrFormat {
    private LbrFormat() {}

    public static final int FMT_32 = 0, LIP = 1, EIP = 2, EIP_FLAGS = 3, EIP_FLAGS2 = 4, INFO = 5, TIME = 6, INFO2 = 7;

    private static final long MISPRED = 1L << 63;
    private static final long ADDR48 = 0x0000_FFFF_FFFF_FFFFL;
    /** LBR_INFO bits 60:16 are reserved. */
    public static final long INFO_RESERVED = 0x1FFF_FFFF_FFFF_0000L;

    public static boolean hasMispredict(int fmt) {
        return fmt >= EIP_FLAGS;
    }

    public static boolean hasCycles(int fmt) {
        return fmt == INFO || fmt == TIME || fmt == INFO2;
    }

    public static boolean hasInfoMsr(int fmt) {
        return fmt == INFO || fmt == INFO2;
    }

    private static long sext48(long a) {
        return a << 16 >> 16;
    }

    public static long encodeFrom(int fmt, long from, long to, boolean mispred) {
        switch (fmt) {
            case FMT_32:
                return (from & 0xFFFF_FFFFL) | (to << 32);
            case EIP_FLAGS:
                return (sext48(from) & ~MISPRED) | (mispred ? MISPRED : 0);
            case EIP_FLAGS2: // 63 MISPRED, 62 IN_TX, 61 ABORT, 60:0 sign-extended address
                return (sext48(from) & 0x1FFF_FFFF_FFFF_FFFFL) | (mispred ? MISPRED : 0);
            case TIME:
                return (sext48(from) & ~MISPRED) | (mispred ? MISPRED : 0);
            default:
                return sext48(from);
        }
    }

    public static long encodeTo(int fmt, long to, int cycles) {
        if (fmt == TIME) {
            return (to & ADDR48) | ((long) Math.min(cycles, 0xFFFF) << 48);
        }
        return sext48(to);
    }

    public static long encodeInfo(boolean mispred, int cycles) {
        return (mispred ? MISPRED : 0) | Math.min(cycles, 0xFFFF);
    }

    public static long decodeFrom(int fmt, long v) {
        switch (fmt) {
            case FMT_32:
                return v & 0xFFFF_FFFFL;
            case EIP_FLAGS:
            case TIME:
                return sext48(v & ~MISPRED);
            case EIP_FLAGS2:
                return (v << 3) >> 3;
            default:
                return v;
        }
    }

    public static long decodeTo(int fmt, long fromMsr, long toMsr) {
        switch (fmt) {
            case FMT_32:
                return fromMsr >>> 32;
            case TIME:
                return sext48(toMsr);
            default:
                return toMsr;
        }
    }

    public static boolean decodeMispred(int fmt, long fromMsr, long infoMsr) {
        if (hasInfoMsr(fmt)) {
            return infoMsr < 0;
        }
        return hasMispredict(fmt) && fromMsr < 0;
    }

    public static int decodeCycles(int fmt, long toMsr, long infoMsr) {
        if (hasInfoMsr(fmt)) {
            return (int) (infoMsr & 0xFFFF);
        }
        return fmt == TIME ? (int) (toMsr >>> 48) : 0;
    }

    /**
     * Whether a WRMSR value is acceptable for a FROM MSR: the address part must be sign-extended
     * as the format lays it out (non-canonical writes #GP; chosen per format here, see docs/design.md).
     */
    public static boolean validFrom(int fmt, long v) {
        switch (fmt) {
            case FMT_32:
                return true;
            case EIP_FLAGS:
            case TIME: {
                long a = v & ~MISPRED; // bits 62:47 must all equal
                long top = a >> 47;
                return top == 0 || top == 0xFFFF;
            }
            case EIP_FLAGS2: {
                long top = ((v << 3) >> 3) >> 47; // bits 60:47 equal
                return top == 0 || top == -1;
            }
            default:
                return Cpu.isCanonical(v);
        }
    }

    public static boolean validTo(int fmt, long v) {
        return fmt == TIME || fmt == FMT_32 || Cpu.isCanonical(v);
    }
}
