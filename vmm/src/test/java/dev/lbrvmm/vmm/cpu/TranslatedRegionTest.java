package dev.lbrvmm.vmm.cpu;

import static dev.lbrvmm.vmm.cpu.Cpu.RAX;
import static dev.lbrvmm.vmm.cpu.Cpu.RBX;
import static dev.lbrvmm.vmm.cpu.Cpu.RCX;
import static dev.lbrvmm.vmm.cpu.Cpu.RDX;
import static dev.lbrvmm.vmm.cpu.Cpu.RSI;
import static dev.lbrvmm.vmm.cpu.Cpu.RSP;
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
 * faults inside a region (#DE and #PF through the IDT, the faulting instruction not retired, the
 * registers and flags its block changed before it as the interpreter leaves them), budgets
 * that end inside regions (random slice lengths), a branch-counter alarm (PMI) in the middle of a
 * region, a stop request during a hot loop, and rotates (which keep the flags other than CF
 * and OF).
 */
class TranslatedRegionTest {

    @Test
    void aStoreIntoItsOwnBlockEndsTheBlockRightAfterIt() {
        // 1000: add $imm8,%rax (imm8 at 1003) / inc %rcx / mov %cl,0x1003 / cmp $64,%rcx / jne 1000 / hlt
        EnginePair p = new EnginePair("4883c000 48ffc1 880c2503100000 4883f940 75ec f4", h -> { });
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RAX)).as("0 + 1 + ... + 63").isEqualTo(2016);
        assertThat(p.translated.cpu.jitStats().invalidated()).isPositive();
    }

    /**
     * A store the emitter writes out itself (a 32-bit MOV), in a loop that runs translated: it
     * writes data on the code's page each iteration (the slow path, no code changed) and, at
     * iteration 32, the ADD's immediate. The region must leave right after that store, so the
     * ADD adds 0 for 32 iterations and 32 for the last 32. The store-into-own-block tests above
     * never run translated: their block changes on every iteration, so a translation is dropped
     * before it runs.
     */
    private static String storeIntoCodeAtIteration32(int padding) {
        // 1000: add $imm32,%rax (imm32 at 1002) / inc %rcx / mov $0x1800,%ebx / cmp $32,%rcx /
        // cmove %esi,%ebx (RSI = 0x1002) / padding x inc %rdx / mov %ecx,(%rbx) / cmp $64,%rcx / jne 1000 (rel32) / hlt
        int back = -(6 + 3 + 5 + 4 + 3 + 3 * padding + 2 + 4 + 6);
        return "480500000000 48ffc1 bb00180000 4883f920 0f44de" + " 48ffc2".repeat(padding) + " 890b 4883f940 0f85"
                + String.format("%02x%02x%02x%02x", back & 0xFF, back >> 8 & 0xFF, back >> 16 & 0xFF, back >>> 24) + " f4";
    }

    @Test
    void aTranslatedStoreIntoCodeEndsTheRegionRightAfterIt() {
        runsStoreIntoCodeAtIteration32(0);
    }

    @Test
    void aTranslatedStoreIntoCodeThatEndsABlockEndsTheRegionRightAfterIt() {
        // the store is the block's last instruction (a block ends after Block.MAX_INSNS of them):
        // the region looks at the code epoch there, before going on to the next block
        runsStoreIntoCodeAtIteration32(Block.MAX_INSNS - 6);
    }

    /** Runs {@link #storeIntoCodeAtIteration32} under both engines: mostly translated, and the right sum. */
    private static void runsStoreIntoCodeAtIteration32(int padding) {
        EnginePair p = new EnginePair(storeIntoCodeAtIteration32(padding), h -> h.cpu.r[RSI] = 0x1002);
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RAX)).as("32 iterations adding 0, then 32 adding 32").isEqualTo(32 * 32);
        assertThat(p.translatedShare()).isGreaterThan(50);
        assertThat(p.translated.cpu.jitStats().invalidated()).isPositive();
    }

    @Test
    void aStoreIntoAnotherRegionDropsItsTranslation() {
        // loop: add $1,%rax; inc %rcx; cmp $100,%rcx; jne loop; then movb $5 into the add's immediate,
        // xor %rcx,%rcx; inc %rdx; cmp $3,%rdx; jne loop; hlt
        EnginePair p = new EnginePair("4883c001 48ffc1 4883f964 75f3 c604250310000005 4831c9 48ffc2 4883fa03 75df f4", h -> { });
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RAX)).as("100 * 1 + 100 * 5 + 100 * 5").isEqualTo(1100);
        assertThat(p.translatedShare()).isGreaterThan(50);
    }

    @Test
    void rotatesChangeOnlyCarryAndOverflowAndKeepTheOtherFlagsACompareLeftPending() {
        // 200 rounds of: cmp (flags pending in locals) / rol $13,%rax / pushfq; pop %rbx; add %rbx,%rdx /
        // imul $0x1e3779b1,%rdx,%rdx; add %rdx,%rax / ror $7,%eax / pushfq... / rol $1,%rax / pushfq... /
        // test / ror $63,%rax / pushfq; pop; xor / add %rax,%rdx; then hlt: every rotate's RFLAGS folded into RDX
        String code = "48b8f1debc9a78563412 b9c8000000 4839ca 48c1c00d 9c5b 4801da 4869d2b179371e 4801d0 c1c807 9c5b 4801da"
                + " 48d1c0 9c5b 4801da 4885d2 48c1c83f 9c5b 4831da 4801c2 ffc9 75c7 f4";
        EnginePair p = new EnginePair(code, h -> { });
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.translatedShare()).isGreaterThan(50);
    }

    @Test
    void budgetsEndingAnywhereInsideRegionsGiveTheSameStateAfterEverySlice() {
        // fib-like: a loop with a call, a data-dependent branch and a return
        // 1000: mov $0x3039,%eax / 1005: call 1014 / test $8,%al / je +3 / inc %rbx / dec %rcx / jne 1005 / hlt
        // 1014: imul $0x41c64e6d,%eax,%eax / add $0x3039,%eax / ret
        String code = "b839300000 e80a000000 a808 7403 48ffc3 48ffc9 75ee f4 69c06d4ec641 0539300000 c3";
        SplittableRandom random = new SplittableRandom(20261203);
        EnginePair p = new EnginePair(code, h -> h.reg(RCX, 3000));
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
        EnginePair p = new EnginePair(code, setUp);
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RCX)).isEqualTo(50);
        assertThat(p.translated.cpu.jitStats().instructionsRun()).isPositive();
    }

    @Test
    void aPushToANonCanonicalStackInsideARegionRaisesStackFault() {
        // lidt (%rax); loop at 1003: inc %rcx / cmp $20,%rcx / cmove %rsi,%rsp (RSI non-canonical) /
        // push %rcx / pop %rdx / cmp $40,%rcx / jne 1003 / hlt. The push at iteration 20 raises #SS(0)
        // (not #GP: the stack-address check on the translated push's slow path). The #SS gate has
        // IST 1 (the TSS at 0x9000 gives 0x5000) since RSP is unusable; its handler at 0x6000 drops
        // the error code, puts 0x4000 in the saved RSP and returns to the push.
        String code = "0f0118 48ffc1 4883f914 480f44e6 51 5a 4883f928 75ed f4";
        Consumer<CpuHarness> setUp = h -> {
            h.reg(RAX, 0x7000).reg(RSP, 0x4000).reg(RSI, 0x8000_0000_0000_4000L);
            h.mem.write16(0x7000, 256 * 16 - 1);
            h.mem.write64(0x7002, 0x8000);
            h.gate(0x8000, Vector.SS, 0x6000);
            h.mem.write64(0x8000 + Vector.SS * 16L, h.mem.read64(0x8000 + Vector.SS * 16L) | 1L << 32); // IST 1
            h.cpu.tr = 0x28;
            h.cpu.trBase = 0x9000;
            h.mem.write64(0x9000 + 36, 0x5000);
            h.put(0x6000, "4883c408 48c744241800400000 48cf");
        };
        EnginePair p = new EnginePair(code, setUp);
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RCX)).isEqualTo(40);
        assertThat(p.interpreted.r(RSP)).isEqualTo(0x4000);
        assertThat(p.translated.cpu.jitStats().instructionsRun()).isPositive();
    }

    @Test
    void aPageFaultInsideARegionSeesTheRegistersAndFlagsTheBlockLeftBeforeIt() {
        // lidt (%rax); loop at 1003: inc %rcx / add $0x10000,%rsi / mov (%rsi),%rdx (#PF past the 1 MiB
        // of RAM) / add %rdx,%rbx / cmp $40,%rcx / jne 1003 / hlt. The block's INC and ADD changed
        // registers and flags (kept in locals) before the fault. The #PF handler at 0x6000 sets %rsi
        // to 0x2000, drops the error code and returns to the MOV: mov $0x2000,%rsi / add $8,%rsp / iretq.
        String code = "0f0118 48ffc1 4881c600000100 488b16 4801d3 4883f928 75ea f4";
        Consumer<CpuHarness> setUp = h -> {
            h.reg(RAX, 0x7000);
            h.mem.write16(0x7000, 256 * 16 - 1);
            h.mem.write64(0x7002, 0x8000);
            h.gate(0x8000, Vector.PF, 0x6000);
            h.put(0x6000, "48c7c600200000 4883c408 48cf");
            for (long a = 0x2000; a < 0x100000; a += 0x10000) {
                h.mem.write64(a, a * 3 + 1);
            }
        };
        EnginePair p = new EnginePair(code, setUp);
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
        assertThat(p.interpreted.r(RCX)).isEqualTo(40);
        assertThat(p.translated.cpu.jitStats().instructionsRun()).isPositive();
        // and with slices that end anywhere, faults included
        EnginePair sliced = new EnginePair(code, setUp);
        SplittableRandom random = new SplittableRandom(14);
        CpuExit e;
        do {
            e = sliced.step(1 + random.nextInt(30));
        } while (e == CpuExit.BUDGET);
        assertThat(e).isEqualTo(CpuExit.HLT);
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
        EnginePair p = new EnginePair(code, setUp);
        p.interpreted.cpu.setBranchCounter(pmiEvery(97, p.interpreted.cpu, interpretedAlarms));
        p.translated.cpu.setBranchCounter(pmiEvery(97, p.translated.cpu, translatedAlarms));
        assertThat(p.runToHalt(1_000_000)).isEqualTo(CpuExit.HLT);
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
        EnginePair p = new EnginePair("48ffc0 ebfb", h -> { }); // inc %rax; jmp back: forever
        p.step(100_000); // hot and translated
        p.translated.cpu.requestStop();
        CpuExit e = p.translated.cpu.run(1_000_000);
        assertThat(e).isEqualTo(CpuExit.STOPPED);
        assertThat(p.translated.cpu.retired() - 100_000).as("instructions run after the request").isLessThanOrEqualTo(2 * 64 * 2);
        assertThat(p.translatedShare()).isGreaterThan(50);
    }
}
