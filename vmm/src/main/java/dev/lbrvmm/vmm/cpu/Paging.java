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
    /** TLB entry permissions: writable (and dirty already set), user, executable. */
    private static final int T_WRITE = 1, T_USER = 2, T_EXEC = 4;

    private final Cpu c;
    private final GuestMemory mem;
    /** Linear page number of each entry, or -1. */
    private final long[] tag = new long[1 << TLB_BITS];
    private final long[] frame = new long[1 << TLB_BITS];
    private final int[] perms = new int[1 << TLB_BITS];
    /** Translation is on (read on every access). */
    boolean enabled;

    Paging(Cpu c, GuestMemory mem) {
        this.c = c;
        this.mem = mem;
        flush();
    }

    /** Forgets every cached translation and re-reads whether paging is on. */
    void flush() {
        Arrays.fill(tag, -1);
        enabled = c.architectural && (c.cr[0] & Cpu.CR0_PG) != 0 && (c.efer & Cpu.EFER_LMA) != 0;
    }

    /** The physical address of a linear one, for an access of one kind; #PF or #GP (non-canonical) if it has none. */
    long translate(long linear, int access) {
        long page = linear >>> 12;
        int i = (int) page & TLB_MASK;
        if (tag[i] == page) {
            int need = access == WRITE ? T_WRITE : access == FETCH ? T_EXEC : 0;
            if (c.cpl() == 3) {
                need |= T_USER;
            }
            if ((perms[i] & need) == need) {
                return frame[i] | (linear & 0xFFF);
            }
        }
        return walk(linear, access);
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
        tag[i] = page;
        frame[i] = physical & ~0xFFFL;
        perms[i] = (writable && (entry & D) != 0 ? T_WRITE : 0) | (userOk ? T_USER : 0) | (executable ? T_EXEC : 0);
        if (!wpApplies && (entry & D) != 0) {
            perms[i] |= T_WRITE; // supervisor writes ignore R/W without CR0.WP
        }
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
