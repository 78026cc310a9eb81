package dev.lbrvmm.vmm.cpu;

/**
 * MOVS, STOS, LODS, SCAS and CMPS with their REP/REPE/REPNE forms. Registers are updated after
 * every element, so a fault in the middle leaves a restartable state as on hardware; REP MOVS
 * and REP STOSB with DF = 0 over in-bounds, non-overlapping ranges are done as bulk copies.
 * A REP instruction retires as one instruction. Like the hardware, which takes interrupts between
 * iterations (SDM Vol. 1, "REP prefix": the instruction is restarted with the updated registers), a long
 * REP is interruptible: after {@link #CHUNK} elements it stops with RIP still on it, throwing
 * {@link #INTERRUPTED}; the run loop charges the time slice one instruction per element without retiring anything, so
 * preemption, monitor stops and pending interrupts happen while a REP with RCX = 2^64 - 1 over memory
 * that never faults (unclaimed MMIO reads) runs on.
 */
final class StringOps {
    private StringOps() {}

    /** Elements a REP string instruction handles before it lets the run loop look at the world. */
    static final long CHUNK = 4096;

    /** Unwinds a REP that stopped after {@link #CHUNK} elements; registers hold its progress. */
    static final class Interrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private Interrupted() {
            super("REP string instruction interrupted between iterations", null, false, false);
        }
    }

    static final Interrupted INTERRUPTED = new Interrupted();

    /** Counts an element of a REP; after CHUNK of them the instruction yields. */
    private static boolean more(long done) {
        if (done >= CHUNK) {
            throw INTERRUPTED;
        }
        return true;
    }

    /** Repeat prefixes (Insn.ext): none, REP/REPE (F3), REPNE (F2). */
    static final int NO_REP = 0, REP = 1, REPNE = 2;

    static void exec(Cpu c, Insn in) {
        int size = in.size;
        long step = ((c.rfl & Cpu.DF) != 0) ? -size : size;
        boolean rep = in.ext != NO_REP;
        long count = rep ? counter(c, in) : 1;
        if (rep && count == 0) {
            return;
        }
        long k = 0;
        switch (in.op) {
            case Op.MOVS -> {
                if (rep && step > 0 && bulkMovs(c, in, count)) {
                    return;
                }
                do {
                    long si = addr(c, in, Cpu.RSI);
                    long di = addr(c, in, Cpu.RDI);
                    c.store(di, size, c.load(si + seg(c, in), size)); // the destination is always ES
                    advance(c, in, Cpu.RSI, step);
                    advance(c, in, Cpu.RDI, step);
                } while (rep && decrement(c, in) != 0 && more(++k));
            }
            case Op.STOS -> {
                long v = c.getReg(Cpu.RAX, size);
                if (rep && step > 0 && size == 1 && bulkStosb(c, in, count, v)) {
                    return;
                }
                do {
                    c.store(addr(c, in, Cpu.RDI), size, v);
                    advance(c, in, Cpu.RDI, step);
                } while (rep && decrement(c, in) != 0 && more(++k));
            }
            case Op.LODS -> {
                do {
                    c.setReg(Cpu.RAX, size, c.load(addr(c, in, Cpu.RSI) + seg(c, in), size));
                    advance(c, in, Cpu.RSI, step);
                } while (rep && decrement(c, in) != 0 && more(++k));
            }
            case Op.SCAS -> {
                long acc = c.getReg(Cpu.RAX, size);
                do {
                    Arithmetic.sub(c, acc, c.load(addr(c, in, Cpu.RDI), size), size);
                    advance(c, in, Cpu.RDI, step);
                } while (rep && decrement(c, in) != 0 && LazyFlags.zf(c) == (in.ext == REP) && more(++k));
            }
            default -> { // CMPS
                do {
                    long a = c.load(addr(c, in, Cpu.RSI) + seg(c, in), size);
                    long b = c.load(addr(c, in, Cpu.RDI), size);
                    Arithmetic.sub(c, a, b, size);
                    advance(c, in, Cpu.RSI, step);
                    advance(c, in, Cpu.RDI, step);
                } while (rep && decrement(c, in) != 0 && LazyFlags.zf(c) == (in.ext == REP) && more(++k));
            }
        }
    }

    /**
     * OUTS to port DX. Like KVM's string PIO, one exit carries as many elements as fit before RSI
     * crosses a 4 KiB page (at least one; one per exit when DF = 1); a REP whose count is not
     * exhausted leaves RIP on the instruction, so it resumes after the exit. All elements are read
     * before any register changes, so a fault leaves the instruction restartable. Each exit
     * retires the instruction once (so a long REP OUTS counts once per page, not once overall).
     */
    static void outs(Cpu c, Insn in) {
        int size = in.size;
        boolean rep = in.ext != NO_REP;
        long count = rep ? counter(c, in) : 1;
        if (count == 0) {
            c.setRip(in.next);
            return;
        }
        long si = addr(c, in, Cpu.RSI);
        long n = 1;
        if (!((c.rfl & Cpu.DF) != 0)) {
            n = Math.max(1, Long.compareUnsigned(count, 4096) < 0 ? Math.min(count, (4096 - (si & 4095)) / size)
                    : (4096 - (si & 4095)) / size); // RCX is unsigned: 2^63 and above are long counts
        }
        byte[] buf = c.ioStringBuffer();
        long base = si + seg(c, in);
        for (int i = 0; i < n * size; i++) {
            buf[i] = (byte) c.load(base + i, 1);
        }
        advance(c, in, Cpu.RSI, ((c.rfl & Cpu.DF) != 0) ? -size : n * size);
        long left = count - n;
        if (rep) {
            c.r[Cpu.RCX] = left;
        }
        c.setRip(rep && left != 0 ? in.rip : in.next);
        c.stringOut((int) (c.r[Cpu.RDX] & 0xFFFF), size, (int) (n * size));
    }

    private static long seg(Cpu c, Insn in) {
        // Only the source operand honours an FS/GS override; that base is applied through MSRs.
        return in.seg == 0 ? 0 : (in.seg == 1 ? c.fsBase : c.gsBase);
    }

    private static long counter(Cpu c, Insn in) {
        return in.addr32 ? c.r[Cpu.RCX] & 0xFFFF_FFFFL : c.r[Cpu.RCX];
    }

    private static long decrement(Cpu c, Insn in) {
        long v = counter(c, in) - 1;
        if (in.addr32) {
            v &= 0xFFFF_FFFFL;
        }
        c.r[Cpu.RCX] = v;
        return v;
    }

    private static long addr(Cpu c, Insn in, int reg) {
        return in.addr32 ? c.r[reg] & 0xFFFF_FFFFL : c.r[reg];
    }

    private static void advance(Cpu c, Insn in, int reg, long step) {
        long v = c.r[reg] + step;
        c.r[reg] = in.addr32 ? v & 0xFFFF_FFFFL : v;
    }

    private static boolean bulkMovs(Cpu c, Insn in, long count) {
        // RCX is unsigned: a count of 2^63 or more is negative as a Java long and must not take this path
        if (c.paging.enabled || in.addr32 || in.seg != 0 || Long.compareUnsigned(count, Integer.MAX_VALUE / in.size) > 0) {
            return false;
        }
        GuestMemory m = c.memory();
        int len = (int) (count * in.size);
        long src = c.r[Cpu.RSI];
        long dst = c.r[Cpu.RDI];
        // Forward element-wise copying replicates bytes when dst lies just after src: not a memmove.
        boolean overlapHarmful = dst > src && dst < src + len;
        if (overlapHarmful || !m.inBounds(src, len) || !m.inBounds(dst, len)) {
            return false;
        }
        m.copyWithin(src, dst, len);
        c.r[Cpu.RSI] = src + len;
        c.r[Cpu.RDI] = dst + len;
        c.r[Cpu.RCX] = 0;
        return true;
    }

    private static boolean bulkStosb(Cpu c, Insn in, long count, long v) {
        if (c.paging.enabled || in.addr32 || Long.compareUnsigned(count, Integer.MAX_VALUE) > 0) {
            return false;
        }
        long dst = c.r[Cpu.RDI];
        if (!c.memory().inBounds(dst, (int) count)) {
            return false;
        }
        c.memory().fill(dst, (byte) v, (int) count);
        c.r[Cpu.RDI] = dst + count;
        c.r[Cpu.RCX] = 0;
        return true;
    }
}
