package dev.lbrvmm.vmm.host;

import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.util.HexFormat;

/**
 * A host process that runs its own branchy code forever: an LCG loop with a call and a
 * data-dependent branch per iteration, real x86-64 code at 0xE0000 of its own memory. While
 * perf has the LBR enabled for host code on its CPU, its branches land in that CPU's LBR.
 */
public final class BranchyWorkload implements TaskBody {
    /** Where its code lives: outside the ranges guest programs use, so foreign records are recognisable. */
    public static final long CODE = 0xE0000;
    // mov $12345,%eax; 1: call step; test $8,%eax; je 2f; inc %rbx; 2: jmp 1b; step: imul $1103515245,%eax,%eax; add $12345,%eax; ret
    private static final String PROGRAM = "b839300000 e80c000000 a908000000 7403 48ffc3 ebef 69c06d4ec641 0539300000 c3";
    public static final int CODE_LENGTH = HexFormat.of().parseHex(PROGRAM.replace(" ", "")).length;

    private final Cpu cpu;
    private long executed;

    public BranchyWorkload(String name) {
        GuestMemory mem = new GuestMemory(1 << 20);
        byte[] code = HexFormat.of().parseHex(PROGRAM.replace(" ", ""));
        mem.load(CODE, code, 0, code.length);
        cpu = new Cpu(0, mem);
        cpu.setRip(CODE);
        cpu.r[Cpu.RSP] = mem.size();
    }

    public long executed() {
        return executed;
    }

    @Override
    public boolean runnable() {
        return true;
    }

    @Override
    public long run(PhysicalCpu pcpu, long budget) {
        boolean record = pcpu.lbr() != null && pcpu.hostLbrEnabled();
        if (record) {
            pcpu.lbr().setClock(cpu);
            pcpu.lbr().setDebugctl(DebugCtl.LBR);
            cpu.setLbrUnit(pcpu.lbr());
        }
        long before = cpu.retired();
        cpu.run(budget);
        cpu.setLbrUnit(null);
        if (record) {
            pcpu.lbr().setDebugctl(0);
        }
        long n = cpu.retired() - before;
        executed += n;
        return n;
    }
}
