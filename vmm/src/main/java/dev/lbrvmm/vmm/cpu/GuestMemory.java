package dev.lbrvmm.vmm.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Guest-physical memory: RAM from address 0 and, for more than 3 GiB, the rest from 4 GiB up, so
 * that [3 GiB, 4 GiB) is a hole where devices sit (the local APIC at 0xFEE00000), as on a PC.
 * RAM is held in Java arrays of 64 MiB, allocated when first written (a large guest that touches
 * little memory costs little, and the JVM never has to move gigabyte arrays; reads of an untouched
 * array are zeros); accesses inside the first array take a fast path.
 *
 * <p>Accessors here do not check bounds; callers check with {@link #inBounds} and raise the
 * guest fault themselves. The memory also remembers which bytes hold decoded code, so that a
 * store into them (self-modifying code) can invalidate the decoded-block cache.
 */
public final class GuestMemory {
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Largest guest memory. */
    public static final long MAX_SIZE = 4L << 30;
    /** RAM past this address is placed from {@link #HIGH_START} on, leaving a hole for devices. */
    public static final long HOLE_START = 3L << 30, HIGH_START = 4L << 30;
    private static final int CHUNK_BITS = 26;
    private static final long CHUNK_MASK = (1L << CHUNK_BITS) - 1;

    /** RAM by physical address >> 30 (null in the hole and until first written). */
    private final byte[][] chunks;
    /** The length of each chunk (0 in the hole). */
    private final int[] chunkLength;
    /** The first chunk: every access below its end takes the fast path. */
    private final byte[] data;
    private final long size;
    private final long lowEnd, highEnd;
    /** Per 4 KiB page, one bit per byte that some vCPU's decoded block covers (null: no code there). */
    private final long[][] codePages;
    /** Ranges marked in codePages, as (start, length) pairs, so they can be cleared without a full sweep. */
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
        this.lowEnd = Math.min(size, HOLE_START);
        this.highEnd = size > HOLE_START ? HIGH_START + (size - HOLE_START) : HIGH_START;
        int n = (int) ((size > HOLE_START ? highEnd - 1 : lowEnd - 1) >>> CHUNK_BITS) + 1;
        this.chunks = new byte[n][];
        this.chunkLength = new int[n];
        for (long base = 0; base < lowEnd; base += 1L << CHUNK_BITS) {
            chunkLength[(int) (base >>> CHUNK_BITS)] = (int) Math.min(1L << CHUNK_BITS, lowEnd - base);
        }
        for (long base = HIGH_START; base < highEnd; base += 1L << CHUNK_BITS) {
            chunkLength[(int) (base >>> CHUNK_BITS)] = (int) Math.min(1L << CHUNK_BITS, highEnd - base);
        }
        this.data = chunks[0] = new byte[chunkLength[0]];
        this.codePages = new long[(int) ((size > HOLE_START ? highEnd : lowEnd) >>> 12)][];
    }

    /** The amount of RAM. */
    public long size() {
        return size;
    }

    /** One past the highest RAM address (above 4 GiB when there is more than 3 GiB of RAM). */
    public long end() {
        return size > HOLE_START ? highEnd : lowEnd;
    }

    /** The end of the RAM below the hole (the whole RAM up to 3 GiB). */
    public long lowEnd() {
        return lowEnd;
    }

    /** True when [addr, addr+len) is RAM (addr is treated as unsigned). */
    public boolean inBounds(long addr, int len) {
        return contains(addr, len);
    }

    /** True when [addr, addr+len) is RAM, for lengths beyond an int. */
    public boolean contains(long addr, long len) {
        return len >= 0 && ((addr >= 0 && addr <= lowEnd - len) || (size > HOLE_START && addr >= HIGH_START && addr <= highEnd - len));
    }

    /** The array holding address a, allocated now if it was never written. */
    private byte[] chunk(long a) {
        int i = (int) (a >>> CHUNK_BITS);
        byte[] c = chunks[i];
        if (c == null) {
            c = chunks[i] = new byte[chunkLength[i]];
        }
        return c;
    }

    private int slowRead8(long a) {
        byte[] c = chunks[(int) (a >>> CHUNK_BITS)];
        return c == null ? 0 : c[(int) (a & CHUNK_MASK)] & 0xFF;
    }

    /** A read outside the first array: one array access, or byte by byte across two arrays. */
    private long slowRead(long a, int n) {
        byte[] c = chunks[(int) (a >>> CHUNK_BITS)];
        int off = (int) (a & CHUNK_MASK);
        if (off <= (1 << CHUNK_BITS) - n) {
            if (c == null) {
                return 0;
            }
            return switch (n) {
                case 8 -> (long) I64.get(c, off);
                case 4 -> (int) I32.get(c, off) & 0xFFFF_FFFFL;
                case 2 -> (short) I16.get(c, off) & 0xFFFF;
                default -> c[off] & 0xFF;
            };
        }
        long v = 0;
        for (int k = 0; k < n; k++) {
            v |= (long) slowRead8(a + k) << (8 * k);
        }
        return v;
    }

    private void slowWrite(long a, int n, long v) {
        int off = (int) (a & CHUNK_MASK);
        if (off <= (1 << CHUNK_BITS) - n) {
            byte[] c = chunk(a);
            switch (n) {
                case 8 -> I64.set(c, off, v);
                case 4 -> I32.set(c, off, (int) v);
                case 2 -> I16.set(c, off, (short) v);
                default -> c[off] = (byte) v;
            }
            return;
        }
        for (int k = 0; k < n; k++) {
            long p = a + k;
            chunk(p)[(int) (p & CHUNK_MASK)] = (byte) (v >>> (8 * k));
        }
    }

    public int read8(long a) {
        return a < data.length ? data[(int) a] & 0xFF : slowRead8(a);
    }

    public int read16(long a) {
        return a <= data.length - 2 ? (short) I16.get(data, (int) a) & 0xFFFF : (int) slowRead(a, 2);
    }

    public long read32(long a) {
        if (a <= data.length - 4) {
            return direct32(data, (int) a);
        }
        byte[] c = chunks[(int) (a >>> CHUNK_BITS)];
        int off = (int) (a & CHUNK_MASK);
        return c != null && off <= (1 << CHUNK_BITS) - 4 ? direct32(c, off) : slowRead(a, 4);
    }

    public long read64(long a) {
        if (a <= data.length - 8) {
            return direct64(data, (int) a);
        }
        byte[] c = chunks[(int) (a >>> CHUNK_BITS)];
        int off = (int) (a & CHUNK_MASK);
        return c != null && off <= (1 << CHUNK_BITS) - 8 ? direct64(c, off) : slowRead(a, 8);
    }

    // Little-endian access to a chunk at an index already checked, shared by the reads and writes
    // here and by translated code's direct path (InstructionEmitter.loadMemory, storeMemory). That
    // path, with paging off, takes an access that lies in the first chunk (RAM throughout, so never
    // MMIO) and, for a store, stays within one page holding no decoded code, straight to the array.
    // The region keeps the array, the code-page table and the paging test in locals, so the fields
    // behind Cpu.load and Cpu.store are not reloaded at every access; the result is the one those
    // paths give.

    /** The first chunk (translated code's direct path). */
    byte[] firstChunk() {
        return data;
    }

    /** Per 4 KiB page, the decoded-code bits (null: no code there), for translated code's direct path. */
    long[][] codePageBits() {
        return codePages;
    }

    static long direct64(byte[] d, int i) {
        return (long) I64.get(d, i);
    }

    static long direct32(byte[] d, int i) {
        return (int) I32.get(d, i) & 0xFFFF_FFFFL;
    }

    static long direct16(byte[] d, int i) {
        return (short) I16.get(d, i) & 0xFFFFL;
    }

    static long direct8(byte[] d, int i) {
        return d[i] & 0xFFL;
    }

    static void putDirect64(byte[] d, int i, long v) {
        I64.set(d, i, v);
    }

    static void putDirect32(byte[] d, int i, long v) {
        I32.set(d, i, (int) v);
    }

    static void putDirect16(byte[] d, int i, long v) {
        I16.set(d, i, (short) v);
    }

    static void putDirect8(byte[] d, int i, long v) {
        d[i] = (byte) v;
    }

    public void write8(long a, long v) {
        checkCode(a, 1);
        if (a < data.length) {
            putDirect8(data, (int) a, v);
        } else {
            slowWrite(a, 1, v);
        }
    }

    public void write16(long a, long v) {
        checkCode(a, 2);
        if (a <= data.length - 2) {
            putDirect16(data, (int) a, v);
        } else {
            slowWrite(a, 2, v);
        }
    }

    public void write32(long a, long v) {
        checkCode(a, 4);
        if (a <= data.length - 4) {
            putDirect32(data, (int) a, v);
        } else {
            slowWrite(a, 4, v);
        }
    }

    public void write64(long a, long v) {
        checkCode(a, 8);
        if (a <= data.length - 8) {
            putDirect64(data, (int) a, v);
            return;
        }
        byte[] c = chunks[(int) (a >>> CHUNK_BITS)];
        int off = (int) (a & CHUNK_MASK);
        if (c != null && off <= (1 << CHUNK_BITS) - 8) {
            putDirect64(c, off, v);
        } else {
            slowWrite(a, 8, v);
        }
    }

    /** Bulk copy from outside (loaders, host-initiated writes). Marks code written if it overlaps code. */
    public void load(long addr, byte[] src, int off, int len) {
        if (!inBounds(addr, len)) {
            throw new IndexOutOfBoundsException(String.format("[0x%x, 0x%x) is not guest RAM (0x%x bytes)", addr, addr + len, size));
        }
        checkCodeRange(addr, len);
        for (int done = 0; done < len; ) {
            long p = addr + done;
            int n = (int) Math.min(len - done, (1L << CHUNK_BITS) - (p & CHUNK_MASK));
            System.arraycopy(src, off + done, chunk(p), (int) (p & CHUNK_MASK), n);
            done += n;
        }
    }

    /** Guest-to-guest copy used by REP MOVS when source and destination do not overlap harmfully. */
    public void copyWithin(long src, long dst, int len) {
        checkCodeRange(dst, len);
        if (src + len <= data.length && dst + len <= data.length) {
            System.arraycopy(data, (int) src, data, (int) dst, len);
            return;
        }
        for (int k = 0; k < len; k++) { // across chunks (rare): forward, byte by byte
            long d = dst + k;
            chunk(d)[(int) (d & CHUNK_MASK)] = (byte) slowRead8(src + k);
        }
    }

    /** Fills [addr, addr + len) (callers check it is RAM); zeros into never-written arrays allocate nothing. */
    public void fill(long addr, byte value, long len) {
        checkCodeRange(addr, len);
        for (long done = 0; done < len; ) {
            long p = addr + done;
            int n = (int) Math.min(len - done, (1L << CHUNK_BITS) - (p & CHUNK_MASK));
            int o = (int) (p & CHUNK_MASK);
            if (value != 0 || chunks[(int) (p >>> CHUNK_BITS)] != null) {
                java.util.Arrays.fill(chunk(p), o, o + n, value);
            }
            done += n;
        }
    }

    /** A store of len (at most 8) bytes at a: if any of them is decoded code, every vCPU re-decodes. */
    private void checkCode(long a, int len) {
        long[] bits = codePages[(int) (a >>> 12)];
        int off = (int) a & 0xFFF;
        if (bits != null && anyMarked(bits, off, Math.min(len, 0x1000 - off))) {
            codeWritten();
            return;
        }
        if (off + len > 0x1000) {
            long[] next = codePages[(int) (a >>> 12) + 1];
            if (next != null && anyMarked(next, 0, off + len - 0x1000)) {
                codeWritten();
            }
        }
    }

    private static boolean anyMarked(long[] bits, int off, int len) {
        for (int k = off; k < off + len; k++) {
            if ((bits[k >>> 6] & (1L << (k & 63))) != 0) {
                return true;
            }
        }
        return false;
    }

    private void checkCodeRange(long a, long len) {
        for (long page = a >>> 12, last = (a + Math.max(len, 1) - 1) >>> 12; page <= last; page++) {
            if (codePages[(int) page] != null) {
                codeWritten();
                return;
            }
        }
    }

    /** Marks [addr, addr+len) as holding decoded code. */
    public void markCode(long addr, int len) {
        long end = addr + len;
        for (long p = addr; p < end; p++) {
            if (!inBounds(p, 1)) {
                break;
            }
            int page = (int) (p >>> 12);
            long[] bits = codePages[page];
            if (bits == null) {
                bits = codePages[page] = new long[64];
            }
            int k = (int) p & 0xFFF;
            bits[k >>> 6] |= 1L << (k & 63);
        }
        if (markedCount * 2 == marked.length) {
            marked = java.util.Arrays.copyOf(marked, marked.length * 2);
        }
        marked[markedCount * 2] = addr;
        marked[markedCount * 2 + 1] = len;
        markedCount++;
    }

    /** A store hit decoded code: forget every mark and tell all vCPUs to drop their decoded blocks. */
    private void codeWritten() {
        for (int i = 0; i < markedCount; i++) {
            long a = marked[i * 2];
            for (long page = a >>> 12, last = (a + Math.max(marked[i * 2 + 1], 1) - 1) >>> 12; page <= last && page < codePages.length;
                    page++) {
                codePages[(int) page] = null;
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
