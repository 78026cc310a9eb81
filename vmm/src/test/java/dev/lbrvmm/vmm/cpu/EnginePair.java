package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One CPU per engine over the same program (a {@link CpuHarness} each, LBR recording on a
 * skylake-client LBR unit): {@link #step} runs both for the same budget and checks that they agree
 * on the exit, registers, RIP, RFLAGS, instructions retired, every branch reported to the hook,
 * the LBR stack and the first 64 KiB of memory.
 */
final class EnginePair {
    /** Translate at the first run of a block, on the vCPU thread: every block runs translated as soon as it can. */
    static final JitSettings NOW = new JitSettings(1, 4096, false);
    private static final CpuModel SKL = CpuModels.byName("skylake-client").orElseThrow();

    final CpuHarness interpreted;
    final CpuHarness translated;
    final LbrUnit interpretedLbr;
    final LbrUnit translatedLbr;
    final List<String> trace = new ArrayList<>();

    EnginePair(String code, Consumer<CpuHarness> setUp) {
        this(code, setUp, NOW);
    }

    EnginePair(String code, Consumer<CpuHarness> setUp, JitSettings jit) {
        interpreted = harness(code, setUp, null);
        translated = harness(code, setUp, jit);
        interpretedLbr = lbr(interpreted);
        translatedLbr = lbr(translated);
    }

    private static CpuHarness harness(String code, Consumer<CpuHarness> setUp, JitSettings jit) {
        CpuHarness h = new CpuHarness(code);
        h.cpu.useJit(jit);
        setUp.accept(h);
        h.recordBranches();
        return h;
    }

    private static LbrUnit lbr(CpuHarness h) {
        LbrUnit lbr = new LbrUnit(SKL, h.cpu);
        lbr.setDebugctl(DebugCtl.LBR);
        h.cpu.setLbrUnit(lbr);
        return lbr;
    }

    /** Sets LBR_SELECT on both (call-stack mode, filters). */
    EnginePair lbrSelect(long value) {
        interpretedLbr.writeMsr(Msr.MSR_LBR_SELECT, value);
        translatedLbr.writeMsr(Msr.MSR_LBR_SELECT, value);
        return this;
    }

    /** Runs both for {@code budget} instructions and checks they agree; returns the exit. */
    CpuExit step(long budget) {
        CpuExit a = interpreted.cpu.run(budget);
        CpuExit b = translated.cpu.run(budget);
        String at = "after " + trace.size() + " slices";
        trace.add(a + "@" + Long.toHexString(interpreted.cpu.rip()));
        assertThat(b).as("exit " + at).isEqualTo(a);
        assertThat(translated.cpu.r).as("registers " + at).containsExactly(interpreted.cpu.r);
        assertThat(translated.cpu.rip()).as("RIP " + at).isEqualTo(interpreted.cpu.rip());
        assertThat(translated.cpu.rflags()).as("RFLAGS " + at).isEqualTo(interpreted.cpu.rflags());
        assertThat(translated.cpu.retired()).as("retired " + at).isEqualTo(interpreted.cpu.retired());
        assertThat(translated.branches.size()).as("branches " + at).isEqualTo(interpreted.branches.size());
        for (int i = 0; i < interpreted.branches.size(); i++) {
            assertThat(translated.branches.get(i)).as("branch " + i + " " + at).containsExactly(interpreted.branches.get(i));
        }
        assertThat(translatedLbr.snapshot()).as("LBR " + at).isEqualTo(interpretedLbr.snapshot());
        for (long a8 = 0; a8 < 0x10000; a8 += 8) {
            if (translated.mem.read64(a8) != interpreted.mem.read64(a8)) {
                assertThat(translated.mem.read64(a8)).as("memory at 0x%x %s", a8, at).isEqualTo(interpreted.mem.read64(a8));
            }
        }
        return a;
    }

    /** Steps with {@code slice} until the CPUs stop for something other than the budget. */
    CpuExit runToHalt(long slice) {
        CpuExit e;
        int guard = 0;
        do {
            e = step(slice);
        } while (e == CpuExit.BUDGET && ++guard < 1_000_000);
        return e;
    }

    /** Percent of the translated CPU's instructions that ran in translated regions. */
    long translatedShare() {
        return translated.cpu.jitStats().instructionsRun() * 100 / Math.max(1, translated.cpu.retired());
    }
}
