package dev.lbrvmm.vmm.cpu;

import java.util.Arrays;

/**
 * Linear-to-physical translation: IA-32e 4-level paging with 4 KiB, 2 MiB and 1 GiB pages, the
 * R/W, U/S and NX (with EFER.NXE) checks, CR0.WP, accessed and dirty bits, and #PF with the
 * architectural error code and CR2 (SDM vol. 3A chapter 5). A direct-mapped software TLB of 4 KiB
 * translations keeps the interpreter's memory access fast; it is flushed by CR0/CR3/CR4 writes and
 * INVLPG (without PCID or global pages, every flush is complete).
 *
 * <p>Active only with architectural control (a Multiboot boot) and CR0.PG = 1 in long mode. Paging
 * without long mode (32-bit and PAE paging) is not modelled: CR0.PG without EFER.LME raises #GP.
 */
final class Paging {
    /** Access kinds. */
    static final int READ = 0, WRITE = 1, FETCH = 2;
    /** #PF error-code bits. */
    static final int PF_PRESENT = 1, PF_WRITE = 2, PF_USER = 4, PF_RSVD = 8, PF_FETCH = 16;

    private static final long P = 1, RW = 2, US = 4, A = 1 << 5, D = 1 << 6, PS = 1 << 7, NX = 1L << 63;
    private static final long ADDR = 0x000F_FFFF_FFFF_F000L;
    private static final int TLB_BITS = 8, TLB_MASK = (1 << TLB_BITS) - 1;

    private final Cpu c;
    private final GuestMemory mem;
    /**
     * The TLB, one tag array per access kind so a hit is one compare: the linear page number where
     * that access is allowed at the current CPL (and, for writes, the dirty bit is already set), or -1.
     * A CPL change flushes it (Cpu.setSelector).
     */
    private final long[] readTag = new long[1 << TLB_BITS];
    private final long[] writeTag = new long[1 << TLB_BITS];
    private final long[] fetchTag = new long[1 << TLB_BITS];
    private final long[] frame = new long[1 << TLB_BITS];
    /** Translation is on (read on every access). */
    boolean enabled;

    Paging(Cpu c, GuestMemory mem) {
        this.c = c;
        this.mem = mem;
        flush();
    }

    /** Forgets every cached translation and re-reads whether paging is on. */
    void flush() {
        Arrays.fill(readTag, -1);
        Arrays.fill(writeTag, -1);
        Arrays.fill(fetchTag, -1);
        enabled = c.architectural && (c.cr[0] & Cpu.CR0_PG) != 0 && (c.efer & Cpu.EFER_LMA) != 0;
    }

    /** The physical address of a linear one, for an access of one kind; #PF or #GP (non-canonical) if it has none. */
    long translate(long linear, int access) {
        long page = linear >>> 12;
        int i = (int) page & TLB_MASK;
        long[] tags = access == READ ? readTag : access == WRITE ? writeTag : fetchTag;
        if (tags[i] == page) {
            return frame[i] | (linear & 0xFFF);
        }
        return walk(linear, access);
    }

    /** A data read: the hot path of every load under paging. */
    long translateRead(long linear) {
        long page = linear >>> 12;
        int i = (int) page & TLB_MASK;
        if (readTag[i] == page) {
            return frame[i] | (linear & 0xFFF);
        }
        return walk(linear, READ);
    }

    /** A data write: the hot path of every store under paging. */
    long translateWrite(long linear) {
        long page = linear >>> 12;
        int i = (int) page & TLB_MASK;
        if (writeTag[i] == page) {
            return frame[i] | (linear & 0xFFF);
        }
        return walk(linear, WRITE);
    }

    /** The 4-level walk; fills the TLB with the 4 KiB translation that covers {@code linear}. */
    private long walk(long linear, int access) {
        if (!Cpu.isCanonical(linear)) {
            throw CpuFault.gp();
        }
        boolean user = c.cpl() == 3;
        boolean nxe = (c.efer & Cpu.EFER_NXE) != 0;
        long table = c.cr[3] & ADDR;
        boolean writable = true, userOk = true, executable = true;
        long entry = 0, entryAddr = 0;
        long pageMask = 0;
        for (int level = 3; level >= 0; level--) {
            entryAddr = table + (((linear >>> (12 + 9 * level)) & 0x1FF) << 3);
            entry = readPhysical(entryAddr, linear, access);
            if ((entry & P) == 0) {
                throw fault(linear, access, 0);
            }
            if (!nxe && (entry & NX) != 0) {
                throw fault(linear, access, PF_PRESENT | PF_RSVD);
            }
            writable &= (entry & RW) != 0;
            userOk &= (entry & US) != 0;
            executable &= !nxe || (entry & NX) == 0;
            if ((entry & A) == 0) {
                mem.write64(entryAddr, entry |= A);
            }
            if (level == 0 || ((entry & PS) != 0 && level <= 2)) {
                if (level == 3 && (entry & PS) != 0) {
                    throw fault(linear, access, PF_PRESENT | PF_RSVD);
                }
                pageMask = (1L << (12 + 9 * level)) - 1;
                break;
            }
            table = entry & ADDR;
        }
        boolean wpApplies = user || (c.cr[0] & Cpu.CR0_WP) != 0;
        if ((access == WRITE && !writable && wpApplies) || (user && !userOk) || (access == FETCH && !executable)) {
            throw fault(linear, access, PF_PRESENT);
        }
        if (access == WRITE && (entry & D) == 0) {
            mem.write64(entryAddr, entry |= D);
        }
        long physical = (entry & ADDR & ~pageMask) | (linear & pageMask);
        long page = linear >>> 12;
        int i = (int) page & TLB_MASK;
        boolean accessible = !user || userOk;
        // Supervisor writes ignore R/W without CR0.WP; a write hit needs the dirty bit set already.
        boolean canWrite = accessible && (writable || !wpApplies) && (entry & D) != 0;
        frame[i] = physical & ~0xFFFL;
        readTag[i] = accessible ? page : -1;
        writeTag[i] = canWrite ? page : -1;
        fetchTag[i] = accessible && executable ? page : -1;
        return physical;
    }

    private long readPhysical(long addr, long linear, int access) {
        if (!mem.inBounds(addr, 8)) {
            throw fault(linear, access, PF_PRESENT | PF_RSVD); // a paging structure outside RAM
        }
        return mem.read64(addr);
    }

    private CpuFault fault(long linear, int access, int bits) {
        int code = bits | (access == WRITE ? PF_WRITE : 0) | (c.cpl() == 3 ? PF_USER : 0)
                | (access == FETCH && (c.efer & Cpu.EFER_NXE) != 0 ? PF_FETCH : 0);
        return new CpuFault(Vector.PF, code, linear);
    }
}
