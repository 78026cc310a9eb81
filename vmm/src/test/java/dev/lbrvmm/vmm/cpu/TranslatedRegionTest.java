package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.RAX;
import static dev.lbrvmm.vmm.cpu.Cpu.RBX;
import static dev.lbrvmm.vmm.cpu.Cpu.RCX;
import static dev.lbrvmm.vmm.cpu.Cpu.RDX;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The translating engine at the edges of its regions, against the interpreter on the same code,
 * slice by slice: after every {@link Cpu#run} call both CPUs hold the same registers, flags, RIP,
 * instructions retired, branch trace, LBR stack and memory. Covered: self-modifying code inside a
 * region (a store into the region's own next block and into its own block) and across regions,
 * faults inside a region (#DE through the IDT, the faulting instruction not retired), budgets
 * that end inside regions (random slice lengths), a branch-counter alarm (PMI) in the middle of a
 * region, and a stop request during a hot loop.
 */
class TranslatedRegionTest {
    private static final JitSettings NOW = new JitSettings(1, 4096, false);
    private static final CpuModel SKL = CpuModels.byName("skylake-client").orElseThrow();

    /** One CPU per engine over the same program. */
    private static final class Pair {
        final CpuHarness interpreted;
        final CpuHarness translated;
        final LbrUnit interpretedLbr;
        final LbrUnit translatedLbr;
        final List<String> trace = new ArrayList<>();

        Pair(String code, Consumer<CpuHarness> setUp) {
            interpreted = harness(code, setUp, null);
            translated = harness(code, setUp, NOW);
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

        long translatedShare() {
            return translated.cpu.jitStats().instructionsRun() * 100 / Math.max(1, translated.cpu.retired());
        }
    }

    private static CpuExit runToHalt(Pair p, long slice) {
        CpuExit e;
        int guard = 0;
        do {
            e = p.step(slice);
        } while (e == CpuExit.BUDGET && ++guard < 1_000_000);
        return e;
    }

    @Test
    void aStoreIntoItsOwnBlockEndsTheBlockRightAfterIt() {
        // 1000: add $imm8,%rax (imm8 at 1003) / inc %rcx / mov %cl,0x1003 / cmp $64,%rcx / jne 1000 / hlt
        Pair p = new Pair("4883c000 48ffc1 880c2503100000 4883f940 75ec f4", h -> { });
        assertThat(runToHalt(p, 1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RAX)).as("0 + 1 + ... + 63").isEqualTo(2016);
        assertThat(p.translated.cpu.jitStats().invalidated()).isPositive();
    }

    @Test
    void aStoreIntoAnotherRegionDropsItsTranslation() {
        // loop: add $1,%rax; inc %rcx; cmp $100,%rcx; jne loop; then movb $5 into the add's immediate,
        // xor %rcx,%rcx; inc %rdx; cmp $3,%rdx; jne loop; hlt
        Pair p = new Pair("4883c001 48ffc1 4883f964 75f3 c604250310000005 4831c9 48ffc2 4883fa03 75df f4", h -> { });
        assertThat(runToHalt(p, 1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RAX)).as("100 * 1 + 100 * 5 + 100 * 5").isEqualTo(1100);
        assertThat(p.translatedShare()).isGreaterThan(50);
    }

    @Test
    void budgetsEndingAnywhereInsideRegionsGiveTheSameStateAfterEverySlice() {
        // fib-like: a loop with a call, a data-dependent branch and a return
        // 1000: mov $0x3039,%eax / 1005: call 1014 / test $8,%al / je +3 / inc %rbx / dec %rcx / jne 1005 / hlt
        // 1014: imul $0x41c64e6d,%eax,%eax / add $0x3039,%eax / ret
        String code = "b839300000 e80a000000 a808 7403 48ffc3 48ffc9 75ee f4 69c06d4ec641 0539300000 c3";
        SplittableRandom random = new SplittableRandom(20261203);
        Pair p = new Pair(code, h -> h.reg(RCX, 3000));
        CpuExit e;
        do {
            e = p.step(1 + random.nextInt(40));
        } while (e == CpuExit.BUDGET);
        assertThat(e).isEqualTo(CpuExit.HLT);
        assertThat(p.translatedShare()).isGreaterThan(50);
    }

    @Test
    void aFaultInsideARegionRetiresNothingOfTheFaultingInstruction() {
        // IDT at 0x8000 via lidt (%rax) at 0x1000; loop at 1003: dec %rbx / mov %rcx,%rax / xor %edx,%edx /
        // div %rbx (#DE when %rbx reaches 0) / inc %rcx / cmp $50,%rcx / jne 1003 / hlt.
        // The #DE handler at 0x6000 sets %rbx to 7 and returns to the DIV: inc %rbx x7 would do; mov $7,%rbx / iretq.
        String code = "0f0118 48ffcb 4889c8 31d2 48f7f3 48ffc1 4883f932 75ec f4";
        Consumer<CpuHarness> setUp = h -> {
            h.reg(RAX, 0x7000).reg(RBX, 9).reg(RCX, 1);
            h.mem.write16(0x7000, 256 * 16 - 1);
            h.mem.write64(0x7002, 0x8000);
            h.gate(0x8000, Vector.DE, 0x6000);
            h.put(0x6000, "48c7c307000000 48cf");
        };
        Pair p = new Pair(code, setUp);
        assertThat(runToHalt(p, 1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RCX)).isEqualTo(50);
        assertThat(p.translated.cpu.jitStats().instructionsRun()).isPositive();
    }

    @Test
    void aPmiRaisedByABranchCounterInsideARegionIsTakenAtTheSameBoundary() {
        // lidt (%rax), then the loop of the budget test; the alarm raises vector 0x20 (as the vPMU's
        // overflow does), whose handler at 0x6000 counts in %r8 and returns: inc %r8; iretq
        String code = "0f0118 b839300000 e80a000000 a808 7403 48ffc3 48ffc9 75ee f4 69c06d4ec641 0539300000 c3";
        List<Long> interpretedAlarms = new ArrayList<>();
        List<Long> translatedAlarms = new ArrayList<>();
        Consumer<CpuHarness> setUp = h -> {
            h.reg(RAX, 0x7000).reg(RCX, 2000);
            h.mem.write16(0x7000, 256 * 16 - 1);
            h.mem.write64(0x7002, 0x8000);
            h.gate(0x8000, 0x20, 0x6000);
            h.put(0x6000, "49ffc0 48cf");
            h.cpu.setRflags(0x202);
        };
        Pair p = new Pair(code, setUp);
        p.interpreted.cpu.setBranchCounter(pmiEvery(97, p.interpreted.cpu, interpretedAlarms));
        p.translated.cpu.setBranchCounter(pmiEvery(97, p.translated.cpu, translatedAlarms));
        assertThat(runToHalt(p, 1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(interpretedAlarms).hasSizeGreaterThan(5);
        assertThat(translatedAlarms).isEqualTo(interpretedAlarms);
        assertThat(p.translated.r(8)).isEqualTo(interpretedAlarms.size());
        assertThat(p.translatedShare()).isGreaterThan(50);
    }

    /** A counter whose alarm notes the instruction count at the branch, raises vector 0x20 and re-arms. */
    private static BranchCounter pmiEvery(long n, Cpu cpu, List<Long> alarms) {
        BranchCounter[] self = new BranchCounter[1];
        self[0] = new BranchCounter(() -> {
            alarms.add(cpu.instructionsAtBranch());
            cpu.raiseInterrupt(0x20);
            self[0].take();
            self[0].alarmAfter(n);
        });
        self[0].alarmAfter(n);
        return self[0];
    }

    @Test
    void aStopRequestDuringAHotLoopIsSeenAtTheSameBoundAsInTheInterpreter() {
        Pair p = new Pair("48ffc0 ebfb", h -> { }); // inc %rax; jmp back: forever
        p.step(100_000); // hot and translated
        p.translated.cpu.requestStop();
        CpuExit e = p.translated.cpu.run(1_000_000);
        assertThat(e).isEqualTo(CpuExit.STOPPED);
        assertThat(p.translated.cpu.retired() - 100_000).as("instructions run after the request").isLessThanOrEqualTo(2 * 64 * 2);
        assertThat(p.translatedShare()).isGreaterThan(50);
    }
}
