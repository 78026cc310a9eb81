package dev.lbrvmm.vmm.cpu;

/**
 * Segments and the switch into long mode: GDT descriptor reads, CS loads by far JMP and far RET
 * (which pick 32-bit or 64-bit code from the descriptor's D and L bits), data-segment loads with
 * their descriptor checks, the task register and LDTR, and the control-register writes that
 * activate long mode (CR0.PG with EFER.LME and CR4.PAE sets EFER.LMA; SDM vol. 3A 10.8.5).
 *
 * <p>Only what a boot into long mode needs: flat segments (bases and limits of CS/DS/ES/SS are
 * not applied), no 16-bit code, no call gates or task switches, no compatibility-mode code.
 */
final class ProtectedMode {
    private ProtectedMode() {}

    /** Descriptor bits. */
    private static final long PRESENT = 1L << 47, CODE_OR_DATA = 1L << 44, EXECUTABLE = 1L << 43, LONG = 1L << 53, DEFAULT32 = 1L << 54;
    private static final int TSS_AVAILABLE = 0x9, TSS_BUSY = 0xB;

    private static CpuFault gp(int selector) {
        return new CpuFault(Vector.GP, selector & 0xFFFC, 0);
    }

    /** The 8-byte GDT descriptor a selector names; #GP(selector) past the limit or for an LDT selector. */
    static long descriptor(Cpu c, int selector) {
        int index = selector & 0xFFF8;
        if ((selector & 4) != 0 || index + 7 > c.gdtLimit) {
            throw gp(selector);
        }
        return c.load(c.gdtBase + index, 8);
    }

    /** Loads CS: a present code descriptor; long mode active and L = 1 -> 64-bit code, else D = 1 -> 32-bit code. */
    static void loadCs(Cpu c, int selector) {
        if ((selector & 0xFFFC) == 0) {
            throw gp(0);
        }
        long d = descriptor(c, selector);
        if ((d & CODE_OR_DATA) == 0 || (d & EXECUTABLE) == 0) {
            throw gp(selector);
        }
        if ((d & PRESENT) == 0) {
            throw new CpuFault(Vector.NP, selector & 0xFFFC, 0);
        }
        boolean longMode = (c.efer & Cpu.EFER_LMA) != 0;
        boolean code64 = longMode && (d & LONG) != 0;
        if (!code64 && (d & DEFAULT32) == 0) {
            throw gp(selector); // 16-bit and compatibility-mode 16-bit code are not modelled
        }
        c.setSelector(Cpu.CS, selector);
        c.setMode32(!code64);
    }

    /** MOV to DS/ES/FS/GS/SS: a null selector (not for SS outside 64-bit mode) or a present data/code descriptor. */
    static void loadDataSegment(Cpu c, int seg, int selector) {
        if (c.architectural) {
            if ((selector & 0xFFFC) == 0) {
                if (seg == Cpu.SS && c.mode32) {
                    throw gp(0);
                }
            } else {
                long d = descriptor(c, selector);
                if ((d & CODE_OR_DATA) == 0) {
                    throw gp(selector);
                }
                if ((d & PRESENT) == 0) {
                    throw new CpuFault(seg == Cpu.SS ? Vector.SS : Vector.NP, selector & 0xFFFC, 0);
                }
            }
        }
        c.sel[seg] = selector & 0xFFFF;
    }

    /** ljmp ptr16:32. */
    static void jmpFar(Cpu c, Insn in) {
        farTransfer(c, in, (int) in.imm2, in.imm);
    }

    /** ljmp m16:32 / m16:64: the offset, then the selector. */
    static void jmpFarIndirect(Cpu c, Insn in) {
        long a = c.ea(in);
        long offset = c.load(a, in.size);
        int selector = (int) c.load(a + in.size, 2);
        farTransfer(c, in, selector, offset);
    }

    /** lret / lretq: pops the offset, then CS (each of the operand size), then releases imm16 bytes. */
    static void retFar(Cpu c, Insn in) {
        long sp = c.r[Cpu.RSP];
        long offset = c.load(sp, in.size);
        int selector = (int) c.load(sp + in.size, in.size) & 0xFFFF;
        farTransfer(c, in, selector, offset);
        c.r[Cpu.RSP] = sp + 2L * in.size + in.imm;
    }

    private static void farTransfer(Cpu c, Insn in, int selector, long offset) {
        loadCs(c, selector);
        long target = c.mode32 ? offset & 0xFFFF_FFFFL : offset;
        c.branch(in.rip, target, BranchKind.K_FAR);
        c.rip = target;
    }

    /** LTR: an available TSS descriptor (16 bytes in long mode) becomes the task register and is marked busy. */
    static void ltr(Cpu c, Insn in) {
        SystemOps.requireCpl0(c);
        int selector = (int) c.readRm(in) & 0xFFFF;
        if ((selector & 0xFFFC) == 0) {
            throw gp(0);
        }
        long d = descriptor(c, selector);
        int type = (int) (d >>> 40) & 0x1F;
        if (type != TSS_AVAILABLE) {
            throw gp(selector);
        }
        if ((d & PRESENT) == 0) {
            throw new CpuFault(Vector.NP, selector & 0xFFFC, 0);
        }
        long base = ((d >>> 16) & 0xFF_FFFFL) | ((d >>> 32) & 0xFF00_0000L);
        if ((c.efer & Cpu.EFER_LMA) != 0) {
            base |= (c.load(c.gdtBase + (selector & 0xFFF8) + 8, 4) & 0xFFFF_FFFFL) << 32;
        }
        c.store(c.gdtBase + (selector & 0xFFF8) + 5, 1, (d >>> 40) & 0xF0 | TSS_BUSY);
        c.tr = selector;
        c.trBase = base;
    }

    static void str(Cpu c, Insn in) {
        c.writeRm(in, c.tr);
    }

    static void sldt(Cpu c, Insn in) {
        c.writeRm(in, c.ldtr);
    }

    /** LLDT: only the null selector (no LDT is modelled); anything else #GP. */
    static void lldt(Cpu c, Insn in) {
        SystemOps.requireCpl0(c);
        int selector = (int) c.readRm(in) & 0xFFFF;
        if ((selector & 0xFFFC) != 0) {
            throw gp(selector);
        }
        c.ldtr = selector;
    }

    /**
     * MOV to CR0/CR3/CR4/CR8. With architectural control: CR0.PG set while EFER.LME is set needs
     * CR4.PAE and sets EFER.LMA; CR0.PG cleared clears LMA; changes that affect translation flush
     * the TLB.
     */
    static void writeControlRegister(Cpu c, int n, long v) {
        if (!c.architectural) {
            c.cr[n] = v;
            return;
        }
        switch (n) {
            case 0 -> {
                boolean pg = (v & Cpu.CR0_PG) != 0;
                if (pg && (v & Cpu.CR0_PE) == 0) {
                    throw CpuFault.gp();
                }
                if (pg && (c.cr[0] & Cpu.CR0_PG) == 0 && (c.efer & Cpu.EFER_LME) != 0) {
                    if ((c.cr[4] & Cpu.CR4_PAE) == 0) {
                        throw CpuFault.gp();
                    }
                    c.efer |= Cpu.EFER_LMA;
                } else if (!pg) {
                    if ((c.efer & Cpu.EFER_LMA) != 0 && !c.mode32) {
                        throw CpuFault.gp(); // leaving long mode from 64-bit code
                    }
                    c.efer &= ~Cpu.EFER_LMA;
                }
                c.cr[0] = v | 0x10; // ET is hard-wired to 1
            }
            case 4 -> {
                if ((v & Cpu.CR4_PAE) == 0 && (c.efer & Cpu.EFER_LMA) != 0) {
                    throw CpuFault.gp(); // PAE cannot be cleared in long mode
                }
                c.cr[4] = v;
            }
            default -> c.cr[n] = v;
        }
        c.translationChanged();
    }
}
