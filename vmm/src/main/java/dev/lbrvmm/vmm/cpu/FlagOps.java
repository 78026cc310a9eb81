package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.DF;
import static dev.lbrvmm.vmm.cpu.Cpu.IF;
import static dev.lbrvmm.vmm.cpu.Cpu.IOPL;
import static dev.lbrvmm.vmm.cpu.Cpu.OF;
import static dev.lbrvmm.vmm.cpu.Cpu.RF;
import static dev.lbrvmm.vmm.cpu.OperandSize.MASK;

/** Flag-control instructions: CLC STC CMC CLD STD CLI STI, LAHF/SAHF and PUSHF/POPF. */
final class FlagOps {
    private FlagOps() {}

    static void clc(Cpu c, Insn in) {
        LazyFlags.setCfOf(c, false, false, false);
    }

    static void stc(Cpu c, Insn in) {
        LazyFlags.setCfOf(c, true, false, false);
    }

    static void cmc(Cpu c, Insn in) {
        LazyFlags.setCfOf(c, !LazyFlags.cf(c), false, false);
    }

    static void cld(Cpu c, Insn in) {
        c.rfl &= ~DF;
    }

    static void std(Cpu c, Insn in) {
        c.rfl |= DF;
    }

    /** CLI and STI need CPL <= IOPL. */
    static void cli(Cpu c, Insn in) {
        SystemOps.requireIoPrivilege(c);
        c.rfl &= ~IF;
    }

    static void sti(Cpu c, Insn in) {
        SystemOps.requireIoPrivilege(c);
        c.rfl |= IF;
    }

    /** LAHF: AH = SF:ZF:0:AF:0:PF:1:CF. */
    static void lahf(Cpu c, Insn in) {
        c.setReg(Cpu.AH, 1, (c.rflags() & 0xD5) | 2);
    }

    /** SAHF: SF, ZF, AF, PF, CF from AH; OF kept. */
    static void sahf(Cpu c, Insn in) {
        LazyFlags.setExplicit(c, (c.rflags() & OF) | ((c.r[Cpu.RAX] >>> 8) & 0xD5));
    }

    static void pushf(Cpu c, Insn in) {
        c.push(c.rflags() & ~RF & MASK[in.size], in.size);
    }

    /** POPF: IF and IOPL change only at CPL 0; a 16-bit POPF changes the low 16 bits only. */
    static void popf(Cpu c, Insn in) {
        long v = c.pop(in.size);
        long mask = c.cpl() == 0 ? Cpu.POPF_MASK : Cpu.POPF_MASK & ~(IF | IOPL);
        if (in.size == 2) {
            mask &= 0xFFFF;
        }
        c.setRflags((c.rflags() & ~mask) | (v & mask));
    }
}
