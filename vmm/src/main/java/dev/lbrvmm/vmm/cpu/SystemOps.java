package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.IOPL;
import static dev.lbrvmm.vmm.cpu.Cpu.RF;

/**
 * System instructions: CPUID, RDMSR/WRMSR (to the hypervisor's {@link MsrBus}), RDTSC/RDTSCP, HLT,
 * port I/O (IN, OUT, OUTS: exits to the VMM), descriptor-table loads and stores, control and
 * segment register moves, SWAPGS, SYSCALL/SYSRET, and the privilege checks they share.
 *
 * <p>Control-register writes, segment loads and the descriptor registers' semantics live in
 * {@link ProtectedMode}; translation in {@link Paging}.
 */
final class SystemOps {
    private SystemOps() {}

    /** IN/OUT port source (Insn.ext). */
    static final int PORT_IMM = 0, PORT_DX = 1;

    static void requireCpl0(Cpu c) {
        if (c.cpl() != 0) {
            throw CpuFault.gp();
        }
    }

    /** CPL <= IOPL, for CLI/STI and port I/O (no I/O permission bitmap is modelled). */
    static void requireIoPrivilege(Cpu c) {
        if (c.cpl() > ((c.rfl & IOPL) >>> 12)) {
            throw CpuFault.gp();
        }
    }

    static void cpuid(Cpu c, Insn in) {
        long[] r = c.r;
        int[] out = c.cpuidOut;
        c.cpuid().lookup((int) r[Cpu.RAX], (int) r[Cpu.RCX], out);
        r[Cpu.RAX] = out[0] & 0xFFFF_FFFFL;
        r[Cpu.RBX] = out[1] & 0xFFFF_FFFFL;
        r[Cpu.RCX] = out[2] & 0xFFFF_FFFFL;
        r[Cpu.RDX] = out[3] & 0xFFFF_FFFFL;
    }

    static void rdmsr(Cpu c, Insn in) {
        requireCpl0(c);
        c.rip = in.rip; // the hypervisor sees the RIP of the MSR access
        long v = c.msrBus.read((int) c.r[Cpu.RCX]);
        c.r[Cpu.RAX] = v & 0xFFFF_FFFFL;
        c.r[Cpu.RDX] = v >>> 32;
    }

    static void wrmsr(Cpu c, Insn in) {
        requireCpl0(c);
        c.rip = in.rip;
        c.msrBus.write((int) c.r[Cpu.RCX], (c.r[Cpu.RDX] << 32) | (c.r[Cpu.RAX] & 0xFFFF_FFFFL));
    }

    /** CR4.PCE: RDPMC allowed at CPL > 0. */
    static final long CR4_PCE = 1 << 8;
    /** RDPMC: ECX bit 30 selects the fixed counters. */
    private static final int RDPMC_FIXED = 1 << 30;

    /**
     * RDPMC: counter ECX into EDX:EAX, read through the hypervisor's MSR bus as KVM's
     * kvm_pmu_rdpmc reads the vPMC (fixed counter n = IA32_FIXED_CTR0 + n, general counter n =
     * IA32_PMC0 + n); #GP at CPL > 0 without CR4.PCE, and for a counter the vPMU does not have.
     */
    static void rdpmc(Cpu c, Insn in) {
        if (c.cpl() != 0 && (c.cr[4] & CR4_PCE) == 0) {
            throw CpuFault.gp();
        }
        int ecx = (int) c.r[Cpu.RCX];
        int n = ecx & ~RDPMC_FIXED;
        if (n < 0 || n > 31) {
            throw CpuFault.gp();
        }
        c.rip = in.rip;
        long v = c.msrBus.read(((ecx & RDPMC_FIXED) != 0 ? Msr.IA32_FIXED_CTR0 : Msr.IA32_PMC0) + n);
        c.r[Cpu.RAX] = v & 0xFFFF_FFFFL;
        c.r[Cpu.RDX] = v >>> 32;
    }

    /** RDTSC and RDTSCP: the count includes this instruction (it starts its block, so retired is exact). */
    static void rdtsc(Cpu c, Insn in) {
        long t = c.tsc() + 1;
        c.r[Cpu.RAX] = t & 0xFFFF_FFFFL;
        c.r[Cpu.RDX] = t >>> 32;
        if (in.op == Op.RDTSCP) {
            c.r[Cpu.RCX] = c.tscAux;
        }
    }

    static void hlt(Cpu c, Insn in) {
        requireCpl0(c);
        c.exit = CpuExit.HLT;
    }

    static void in(Cpu c, Insn in) {
        requireIoPrivilege(c);
        c.ioPort = port(c, in);
        c.ioSize = in.size;
        c.pendingIn = true;
        c.exit = CpuExit.IO_IN;
    }

    static void out(Cpu c, Insn in) {
        requireIoPrivilege(c);
        c.ioPort = port(c, in);
        c.ioSize = in.size;
        c.ioValue = c.getReg(Cpu.RAX, in.size);
        c.ioStringLength = -1;
        c.exit = CpuExit.IO_OUT;
    }

    static void outs(Cpu c, Insn in) {
        requireIoPrivilege(c);
        StringOps.outs(c, in);
    }

    private static int port(Cpu c, Insn in) {
        return in.ext == PORT_IMM ? (int) in.imm : (int) (c.r[Cpu.RDX] & 0xFFFF);
    }

    /** LGDT and LIDT: a 2-byte limit, then a base of 8 bytes (4 in 32-bit mode). */
    static void loadDescriptorTable(Cpu c, Insn in) {
        requireCpl0(c);
        long a = c.ea(in);
        int limit = (int) c.load(a, 2);
        long base = c.load(a + 2, in.size == 4 ? 4 : 8);
        if (in.op == Op.LIDT) {
            c.idtLimit = limit;
            c.idtBase = base;
            c.idtLoaded = true;
        } else {
            c.gdtLimit = limit;
            c.gdtBase = base;
        }
    }

    /** SGDT and SIDT. */
    static void storeDescriptorTable(Cpu c, Insn in) {
        long a = c.ea(in);
        boolean idt = in.op == Op.SIDT;
        c.store(a, 2, idt ? c.idtLimit : c.gdtLimit);
        c.store(a + 2, in.size == 4 ? 4 : 8, idt ? c.idtBase : c.gdtBase);
    }

    /** MOV from CR0/2/3/4/8 (Insn.ext = the control register). */
    static void movFromCr(Cpu c, Insn in) {
        requireCpl0(c);
        c.r[in.rm] = in.ext == 8 ? c.cr[8] & 0xF : c.cr[in.ext];
    }

    static void movToCr(Cpu c, Insn in) {
        requireCpl0(c);
        ProtectedMode.writeControlRegister(c, in.ext, c.r[in.rm]);
    }

    /** INVLPG: drops the TLB (every translation: no per-page invalidation is modelled). */
    static void invlpg(Cpu c, Insn in) {
        requireCpl0(c);
        c.translationChanged();
    }

    /** MOV from a segment register (Insn.ext = ES, CS, SS, DS, FS, GS). */
    static void movFromSeg(Cpu c, Insn in) {
        c.writeRm(in, c.sel[in.ext]);
    }

    static void movToSeg(Cpu c, Insn in) {
        ProtectedMode.loadDataSegment(c, in.ext, (int) c.readRm(in) & 0xFFFF);
    }

    static void swapgs(Cpu c, Insn in) {
        requireCpl0(c);
        long t = c.gsBase;
        c.gsBase = c.kernelGsBase;
        c.kernelGsBase = t;
    }

    /**
     * SYSCALL to IA32_LSTAR. With LSTAR never programmed there is no guest kernel: the exit hands
     * the call to the VMM's Linux shim.
     */
    static void syscall(Cpu c, Insn in) {
        if (c.lstar == 0) {
            c.exit = CpuExit.SYSCALL;
            c.rip = in.next;
            return;
        }
        c.r[Cpu.RCX] = in.next;
        c.r[Cpu.R11] = c.rflags() & ~RF;
        c.branch(in.rip, c.lstar, BranchKind.K_FAR);
        c.setSelector(Cpu.CS, (int) ((c.star >>> 32) & 0xFFFC));
        c.sel[Cpu.SS] = c.sel[Cpu.CS] + 8;
        c.setRflags(c.rflags() & ~c.fmask & ~RF);
        c.rip = c.lstar;
    }

    static void sysret(Cpu c, Insn in) {
        requireCpl0(c);
        long target = in.size == 8 ? c.r[Cpu.RCX] : c.r[Cpu.RCX] & 0xFFFF_FFFFL;
        if (!Cpu.isCanonical(target)) {
            throw CpuFault.gp();
        }
        c.branch(in.rip, target, BranchKind.K_FAR);
        c.setRflags((c.r[Cpu.R11] & 0x3C7FD7L) | 2);
        int base = (int) ((c.star >>> 48) & 0xFFFF);
        c.setSelector(Cpu.CS, ((in.size == 8 ? base + 16 : base) | 3) & 0xFFFF);
        c.sel[Cpu.SS] = ((base + 8) | 3) & 0xFFFF;
        c.rip = target;
    }
}
