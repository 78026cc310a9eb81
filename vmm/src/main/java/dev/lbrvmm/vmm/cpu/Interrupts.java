package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.IF;
import static dev.lbrvmm.vmm.cpu.Cpu.IOPL;
import static dev.lbrvmm.vmm.cpu.Cpu.NT;
import static dev.lbrvmm.vmm.cpu.Cpu.RF;
import static dev.lbrvmm.vmm.cpu.Cpu.TF;

/**
 * Exceptions and interrupts: delivery through 64-bit IDT gates (faults from the interpreter,
 * INT n/INT3, external and virtual interrupts), the #GP -> #DF -> triple-fault escalation when a
 * vector cannot be delivered, and IRET. Every delivery and IRET is a far branch for the LBR.
 *
 * <p>The IST stacks of a loaded 64-bit TSS are used; a privilege change does not switch to RSP0
 * (kernels that run user code are not modelled), and 32-bit protected-mode delivery is not modelled.
 */
final class Interrupts {
    private Interrupts() {}

    /** IDT gate types (64-bit mode). */
    private static final int GATE_INTERRUPT = 0xE, GATE_TRAP = 0xF;

    /** INT3 and INT n: the return address is the next instruction. */
    static void softwareInterrupt(Cpu c, Insn in) {
        int vector = in.op == Op.INT3 ? Vector.BP : (int) in.imm;
        if (!deliver(c, vector, false, 0, in.next, in.rip)) {
            escalate(c, vector, in, 0);
        }
    }

    /** A fault raised by an instruction: delivered with the instruction's own RIP (it did not retire). */
    static void raise(Cpu c, CpuFault f, Insn in) {
        int v = f.vector;
        if (v == Vector.PF) {
            c.cr[2] = f.address;
        }
        if (!deliver(c, v, Vector.hasErrorCode(v), f.errorCode, in.rip, in.rip)) {
            escalate(c, v, in, f.address);
        }
    }

    /** An external or virtual interrupt at the current RIP; false after a triple fault. */
    static boolean inject(Cpu c, int vector) {
        if (deliver(c, vector, false, 0, c.rip, c.rip)) {
            return true;
        }
        tripleFault(c, vector, c.rip, 0, "interrupt delivery failed");
        return false;
    }

    /** A vector could not be delivered: #GP, then #DF, then a triple fault (shutdown). */
    private static void escalate(Cpu c, int vector, Insn in, long address) {
        if (vector != Vector.GP && vector != Vector.DF && deliver(c, Vector.GP, true, (long) vector * 8 + 2, in.rip, in.rip)) {
            return;
        }
        if (vector != Vector.DF && deliver(c, Vector.DF, true, 0, in.rip, in.rip)) {
            return;
        }
        tripleFault(c, vector, in.rip, address, c.mode32 ? "delivery in 32-bit protected mode is not modelled (only 64-bit IDT gates)"
                : c.idtLoaded ? "its IDT entry is missing or invalid" : "no IDT is loaded (LIDT never ran)");
    }

    private static void tripleFault(Cpu c, int vector, long at, long address, String why) {
        c.shutdown = true;
        c.exit = CpuExit.SHUTDOWN;
        String where = vector == Vector.PF ? String.format(" for address 0x%x", address) : "";
        c.shutdownReason = String.format("vCPU %d: triple fault at RIP=0x%x: %s%s could not be delivered because %s; instruction bytes: %s",
                c.index, at, Vector.name(vector), where, why, c.instructionBytes(at));
    }

    /**
     * Delivers a vector through a 64-bit IDT gate: pushes SS, RSP, RFLAGS, CS, RIP (and the error
     * code) on a 16-byte aligned stack (the gate's IST stack from the TSS if it names one), clears
     * IF for interrupt gates. The transfer is reported to the branch hook as a far branch from
     * {@code from}. Returns false when the gate or the stack cannot be used (the caller escalates);
     * 32-bit protected-mode delivery is not modelled.
     */
    private static boolean deliver(Cpu c, int vector, boolean hasErr, long err, long returnRip, long from) {
        if (!c.idtLoaded || c.mode32) {
            return false;
        }
        long off = (long) vector * 16;
        if (off + 15 > c.idtLimit) {
            return false;
        }
        long lo, hi, rsp;
        try {
            lo = c.load(c.idtBase + off, 8);
            hi = c.load(c.idtBase + off + 8, 8);
            int ist = (int) (lo >>> 32) & 7;
            rsp = ist != 0 && c.tr != 0 ? c.load(c.trBase + 36 + 8L * (ist - 1), 8) : c.r[Cpu.RSP];
        } catch (CpuFault f) {
            return false;
        }
        int attr = (int) (lo >>> 40) & 0xFF;
        int type = attr & 0xF;
        if ((attr & 0x80) == 0 || (type != GATE_INTERRUPT && type != GATE_TRAP)) {
            return false;
        }
        long target = (lo & 0xFFFF) | ((lo >>> 32) & 0xFFFF_0000L) | ((hi & 0xFFFF_FFFFL) << 32);
        int selector = (int) (lo >>> 16) & 0xFFFF;
        long sp = rsp & ~0xFL;
        int frame = hasErr ? 48 : 40;
        long flags = c.rflags();
        try {
            c.store(sp - 8, 8, c.sel[Cpu.SS]);
            c.store(sp - 16, 8, c.r[Cpu.RSP]);
            c.store(sp - 24, 8, flags);
            c.store(sp - 32, 8, c.sel[Cpu.CS]);
            c.store(sp - 40, 8, returnRip);
            if (hasErr) {
                c.store(sp - 48, 8, err);
            }
        } catch (CpuFault f) {
            return false;
        }
        c.branch(from, target, BranchKind.K_FAR);
        c.r[Cpu.RSP] = sp - frame;
        c.setSelector(Cpu.CS, selector);
        if (type == GATE_INTERRUPT) {
            c.rfl &= ~IF;
        }
        c.rfl &= ~(TF | NT | RF);
        c.rip = target;
        return true;
    }

    /** IRETQ (and the 32-bit-operand IRETD): pops RIP, CS, RFLAGS, RSP, SS. */
    static void iret(Cpu c, Insn in) {
        int size = in.size == 8 ? 8 : 4;
        long sp = c.r[Cpu.RSP];
        long newRip = c.load(sp, size);
        long newCs = c.load(sp + size, size) & 0xFFFF;
        long newFlags = c.load(sp + 2L * size, size);
        long newRsp = c.load(sp + 3L * size, size);
        long newSs = c.load(sp + 4L * size, size) & 0xFFFF;
        ControlFlow.canonicalTarget(newRip);
        c.branch(in.rip, newRip, BranchKind.K_FAR);
        long mask = c.cpl() == 0 ? Cpu.POPF_MASK | RF : Cpu.POPF_MASK & ~(IF | IOPL);
        c.setRflags((c.rflags() & ~mask) | (newFlags & mask));
        c.setSelector(Cpu.CS, (int) newCs);
        c.sel[Cpu.SS] = (int) newSs;
        c.r[Cpu.RSP] = newRsp;
        c.rip = newRip;
    }
}
