package dev.lbrvmm.vmm.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Flat guest-physical memory, identity mapped (guest linear address = physical address).
 *
 * <p>Accessors here do not check bounds; callers check with {@link #inBounds} and raise the
 * guest fault themselves. The memory also remembers which bytes hold decoded code, so that a
 * store into them (self-modifying code) can invalidate the decoded-block cache.
 */
public final class GuestMemory {
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Largest guest memory: one Java array. */
    public static final long MAX_SIZE = 1L << 30;

    private final byte[] data;
    private final long size;
    /** One bit per byte of memory: set while some vCPU's decoded block covers the byte. */
    private final long[] codeBits;
    /** Ranges marked in codeBits, as (start, length) pairs, so they can be cleared without a full sweep. */
    private long[] marked = new long[64];
    private int markedCount;
    /**
     * Bumped by every store into a code byte. Each vCPU compares it with the epoch its block
     * cache was built in and flushes on a change (memory is shared by all vCPUs).
     */
    private int codeEpoch;

    public GuestMemory(long size) {
        if (size <= 0 || size > MAX_SIZE || (size & 0xFFF) != 0) {
            throw new IllegalArgumentException("guest memory must be a multiple of 4 KiB between 4 KiB and "
                    + (MAX_SIZE >> 20) + " MiB, got " + size + " bytes");
        }
        this.size = size;
        this.data = new byte[(int) size];
        this.codeBits = new long[(int) ((size + 63) >>> 6)];
    }

    public long size() {
        return size;
    }

    /** True when [addr, addr+len) lies inside memory (addr is treated as unsigned). */
    public boolean inBounds(long addr, int len) {
        return addr >= 0 && addr <= size - len;
    }

    public int read8(long a) {
        return data[(int) a] & 0xFF;
    }

    public int read16(long a) {
        return (short) I16.get(data, (int) a) & 0xFFFF;
    }

    public long read32(long a) {
        return (int) I32.get(data, (int) a) & 0xFFFF_FFFFL;
    }

    public long read64(long a) {
        return (long) I64.get(data, (int) a);
    }

    public void write8(long a, long v) {
        checkCode(a, 1);
        data[(int) a] = (byte) v;
    }

    public void write16(long a, long v) {
        checkCode(a, 2);
        I16.set(data, (int) a, (short) v);
    }

    public void write32(long a, long v) {
        checkCode(a, 4);
        I32.set(data, (int) a, (int) v);
    }

    public void write64(long a, long v) {
        checkCode(a, 8);
        I64.set(data, (int) a, v);
    }

    /** Bulk copy from outside (loaders, host-initiated writes). Marks code written if it overlaps code. */
    public void load(long addr, byte[] src, int off, int len) {
        if (!inBounds(addr, len)) {
            throw new IndexOutOfBoundsException(String.format("[0x%x, 0x%x) is outside guest memory of 0x%x bytes",
                    addr, addr + len, size));
        }
        checkCodeRange(addr, len);
        System.arraycopy(src, off, data, (int) addr, len);
    }

    /** Guest-to-guest copy used by REP MOVS when source and destination do not overlap harmfully. */
    public void copyWithin(long src, long dst, int len) {
        checkCodeRange(dst, len);
        System.arraycopy(data, (int) src, data, (int) dst, len);
    }

    public void fill(long addr, byte value, int len) {
        checkCodeRange(addr, len);
        java.util.Arrays.fill(data, (int) addr, (int) addr + len, value);
    }

    private void checkCode(long a, int len) {
        int bit = (int) a & 63;
        int w = (int) (a >>> 6);
        long bits = codeBits[w] >>> bit;
        if (bit + len > 64 && w + 1 < codeBits.length) {
            bits |= codeBits[w + 1] << (64 - bit);
        }
        if ((bits & ((1L << len) - 1)) != 0) {
            codeWritten();
        }
    }

    private void checkCodeRange(long a, int len) {
        for (long p = a, end = a + len; p < end; ) {
            int w = (int) (p >>> 6);
            if (codeBits[w] != 0) {
                codeWritten();
                return;
            }
            p = ((long) w + 1) << 6;
        }
    }

    /** Marks [addr, addr+len) as holding decoded code. */
    public void markCode(long addr, int len) {
        long end = Math.min(addr + len, size);
        for (long p = addr; p < end; p++) {
            codeBits[(int) (p >>> 6)] |= 1L << (p & 63);
        }
        if (markedCount * 2 == marked.length) {
            marked = java.util.Arrays.copyOf(marked, marked.length * 2);
        }
        marked[markedCount * 2] = addr;
        marked[markedCount * 2 + 1] = end - addr;
        markedCount++;
    }

    /** A store hit decoded code: forget every mark and tell all vCPUs to drop their decoded blocks. */
    private void codeWritten() {
        for (int i = 0; i < markedCount; i++) {
            long a = marked[i * 2];
            long end = a + marked[i * 2 + 1];
            for (long p = a; p < end; p++) {
                codeBits[(int) (p >>> 6)] &= ~(1L << (p & 63));
            }
        }
        markedCount = 0;
        codeEpoch++;
    }

    /** Changes whenever decoded code may have been overwritten. */
    public int codeEpoch() {
        return codeEpoch;
    }
}
