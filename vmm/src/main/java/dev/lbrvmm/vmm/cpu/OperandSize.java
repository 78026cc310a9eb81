package dev.lbrvmm.vmm.cpu;

/**
 * Tables indexed by an operand size in bytes (1, 2, 4 or 8): the one place they are defined, used
 * by the decoder (immediates) and by every instruction family.
 */
final class OperandSize {
    private OperandSize() {}

    /** The bits an operand of each size occupies. */
    static final long[] MASK = {0, 0xFFL, 0xFFFFL, 0, 0xFFFF_FFFFL, 0, 0, 0, -1L};
    /** The sign bit of an operand of each size. */
    static final long[] SIGN = {0, 0x80L, 0x8000L, 0, 0x8000_0000L, 0, 0, 0, Long.MIN_VALUE};
    /** Left shift that moves an operand's sign bit to bit 63 (for sign extension). */
    private static final int[] SX_SHIFT = {0, 56, 48, 0, 32, 0, 0, 0, 0};

    /** Sign-extends the low {@code size} bytes of v to 64 bits. */
    static long signExtend(long v, int size) {
        int s = SX_SHIFT[size];
        return v << s >> s;
    }

    /** Unsigned a < b. */
    static boolean below(long a, long b) {
        return a + Long.MIN_VALUE < b + Long.MIN_VALUE;
    }
}
