package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The physical LBR unit: ring, call-stack mode, filters, and the MSR rules of LBR_SELECT, TOS and the formats (docs/design.md). */
class LbrUnitTest {
    private static final CpuModel SKL = CpuModels.byName("skylake-client").orElseThrow();
    private static final CpuModel HSW = CpuModels.byName("haswell").orElseThrow();
    private static final CpuModel NHM = CpuModels.byName("nehalem").orElseThrow();

    private static LbrUnit unit(CpuModel m) {
        LbrUnit u = new LbrUnit(m, new Cpu(0, new GuestMemory(1 << 20)));
        u.setDebugctl(DebugCtl.LBR);
        return u;
    }

    private static void branch(LbrUnit u, long from, long to, BranchKind k) {
        u.onBranch(from, to, k, 0);
    }

    @Test
    void ringOfSixteenWrapsAndKeepsTheNewestSixteen() {
        LbrUnit u = unit(HSW);
        for (int b = 1; b <= 20; b++) {
            branch(u, 0x1000 + b, 0x2000 + b, BranchKind.NEAR_REL_JMP);
        }
        assertThat(u.tos()).isEqualTo(4);
        for (int i = 0; i < 16; i++) {
            int b = i >= 5 ? i : i + 16; // entries 5..15 hold branches 5..15, entries 0..4 branches 16..20
            assertThat(u.readMsr(Msr.MSR_LBR_NHM_FROM + i)).as("FROM[%d]", i).isEqualTo(0x1000 + b);
            assertThat(u.readMsr(Msr.MSR_LBR_NHM_TO + i)).as("TO[%d]", i).isEqualTo(0x2000 + b);
        }
        List<LbrSnapshot.Entry> e = u.snapshot().entries();
        assertThat(e).hasSize(16);
        assertThat(e.get(0).from()).as("newest first").isEqualTo(0x1000 + 20);
        assertThat(e.get(15).from()).isEqualTo(0x1000 + 5);
    }

    @Test
    void callStackModePopsOnReturn() {
        LbrUnit u = unit(HSW);
        // JCC, NEAR_IND_JMP, NEAR_REL_JMP, FAR suppressed; calls and returns kept; EN_CALLSTACK.
        u.writeMsr(Msr.MSR_LBR_SELECT, 0x4 | 0x40 | 0x80 | 0x100 | LbrUnit.EN_CALLSTACK);
        branch(u, 0x100, 0xA00, BranchKind.NEAR_REL_CALL); // call A
        branch(u, 0xA10, 0xB00, BranchKind.NEAR_REL_CALL); // call B
        branch(u, 0xB20, 0xA15, BranchKind.NEAR_RET); //      ret from B
        branch(u, 0xA30, 0xC00, BranchKind.NEAR_REL_CALL); // call C
        branch(u, 0xA40, 0xA50, BranchKind.CONDITIONAL); //    suppressed
        assertThat(u.tos()).isEqualTo(2);
        List<LbrSnapshot.Entry> e = u.snapshot().entries();
        assertThat(e).extracting(LbrSnapshot.Entry::to).containsExactly(0xC00L, 0xA00L);
    }

    @Test
    void callStackUnderflowStillMovesTosBack() {
        LbrUnit u = unit(HSW);
        u.writeMsr(Msr.MSR_LBR_SELECT, 0x3C4);
        branch(u, 0x200, 0x300, BranchKind.NEAR_RET);
        assertThat(u.tos()).isEqualTo(15);
        assertThat(u.snapshot().entries()).isEmpty();
        branch(u, 0x400, 0x500, BranchKind.NEAR_REL_CALL);
        assertThat(u.tos()).isZero();
        assertThat(u.snapshot().entries()).hasSize(1);
    }

    @Test
    void cplFiltersAndBranchClassFilters() {
        LbrUnit u = unit(SKL);
        u.writeMsr(Msr.MSR_LBR_SELECT, LbrUnit.CPL_EQ_0);
        u.onBranch(0x10, 0x20, BranchKind.CONDITIONAL, 0);
        u.onBranch(0x30, 0x40, BranchKind.CONDITIONAL, 3);
        assertThat(u.snapshot().entries()).extracting(LbrSnapshot.Entry::from).containsExactly(0x30L);
        u.writeMsr(Msr.MSR_LBR_SELECT, 1 << 5); // NEAR_RET suppressed
        u.onBranch(0x50, 0x60, BranchKind.NEAR_RET, 0);
        u.onBranch(0x70, 0x80, BranchKind.NEAR_IND_CALL, 0);
        assertThat(u.snapshot().entries()).extracting(LbrSnapshot.Entry::from).containsExactly(0x70L, 0x30L);
    }

    @Test
    void recordsOnlyWhileDebugctlLbrIsSet() {
        LbrUnit u = unit(SKL);
        u.setDebugctl(0);
        branch(u, 0x10, 0x20, BranchKind.NEAR_REL_JMP);
        assertThat(u.snapshot().entries()).isEmpty();
        assertThat(u.tos()).isZero();
    }

    @Test
    void freezeOnPmiClearsDebugctlLbr() {
        LbrUnit u = unit(SKL);
        u.setDebugctl(DebugCtl.LBR | DebugCtl.FREEZE_LBRS_ON_PMI);
        branch(u, 0x10, 0x20, BranchKind.NEAR_REL_JMP);
        assertThat(u.performanceInterrupt()).isEqualTo(DebugCtl.FREEZE_LBRS_ON_PMI);
        branch(u, 0x30, 0x40, BranchKind.NEAR_REL_JMP);
        assertThat(u.snapshot().entries()).hasSize(1);
        LbrUnit noFreeze = unit(SKL);
        assertThat(noFreeze.performanceInterrupt()).isEqualTo(DebugCtl.LBR);
    }

    @Test
    void msrRangesFollowTheModel() {
        LbrUnit skl = unit(SKL);
        assertThat(skl.isLbrMsr(Msr.MSR_LBR_NHM_FROM + 31)).isTrue();
        assertThat(skl.isLbrMsr(Msr.MSR_LBR_NHM_FROM + 32)).isFalse();
        assertThat(skl.isLbrMsr(Msr.MSR_LBR_INFO_0 + 31)).isTrue();
        assertThat(skl.isLbrMsr(Msr.MSR_LBR_CORE_FROM)).isFalse();
        assertThat(skl.msrIndices()).hasSize(SKL.lbrMsrCount()).hasSize(98);
        LbrUnit hsw = unit(HSW);
        assertThat(hsw.isLbrMsr(Msr.MSR_LBR_INFO_0)).as("no INFO MSRs on Haswell").isFalse();
        assertThatThrownBy(() -> hsw.readMsr(Msr.MSR_LBR_NHM_FROM + 16)).isInstanceOf(CpuFault.class);
        assertThatThrownBy(() -> hsw.readMsr(Msr.MSR_LBR_INFO_0)).isInstanceOf(CpuFault.class);
        assertThat(hsw.msrIndices()).hasSize(34);
        LbrUnit core2 = unit(CpuModels.byName("core2").orElseThrow());
        assertThat(core2.isLbrMsr(Msr.MSR_LBR_CORE_FROM + 3)).isTrue();
        assertThat(core2.isLbrMsr(Msr.MSR_LBR_SELECT)).as("Core2 filters in software").isFalse();
        assertThat(core2.msrIndices()).hasSize(9);
    }

    @Test
    void writeValueChecks() {
        LbrUnit skl = unit(SKL);
        skl.writeMsr(Msr.MSR_LBR_NHM_FROM + 3, 0x1234);
        assertThat(skl.readMsr(Msr.MSR_LBR_NHM_FROM + 3)).as("FROM written and read back").isEqualTo(0x1234);
        skl.writeMsr(Msr.MSR_LBR_NHM_TO + 3, 0xFFFF_8000_0000_0000L);
        assertThatThrownBy(() -> skl.writeMsr(Msr.MSR_LBR_NHM_FROM, 0x0000_8000_0000_0000L))
                .as("non-canonical FROM").isInstanceOf(CpuFault.class);
        assertThatThrownBy(() -> skl.writeMsr(Msr.MSR_LBR_INFO_0, 1L << 20)).as("INFO reserved bits").isInstanceOf(CpuFault.class);
        skl.writeMsr(Msr.MSR_LBR_INFO_0, Long.MIN_VALUE | 0xFFFF);
        assertThatThrownBy(() -> skl.writeMsr(Msr.MSR_LBR_SELECT, 1 << 10)).isInstanceOf(CpuFault.class);
        LbrUnit nhm = unit(NHM);
        assertThatThrownBy(() -> nhm.writeMsr(Msr.MSR_LBR_SELECT, LbrUnit.EN_CALLSTACK))
                .as("no call-stack mode before Haswell").isInstanceOf(CpuFault.class);
        LbrUnit hsw = unit(HSW);
        hsw.writeMsr(Msr.MSR_LBR_NHM_FROM, 0xE000_0000_0000_1000L); // MISPRED, IN_TX, ABORT + address
        assertThatThrownBy(() -> hsw.writeMsr(Msr.MSR_LBR_NHM_FROM, 0x0100_0000_0000_0000L)).isInstanceOf(CpuFault.class);
        skl.writeMsr(Msr.MSR_LBR_TOS, 0x27);
        assertThat(skl.tos()).as("TOS keeps log2(depth) bits").isEqualTo(7);
    }

    @Test
    void predictorMarksMispredictsAndCyclesCountInstructions() {
        // 0x1000: jmp +0 (eb00), three nops, jmp +0, then a ret to a pushed address far away.
        CpuHarness h = new CpuHarness("eb00 909090 eb00 c3");
        h.mem.write64(CpuHarness.STACK - 8, 0x1009); // ret goes to 0x1009 without a matching call: mispredicted
        h.cpu.r[Cpu.RSP] = CpuHarness.STACK - 8;
        h.put(0x1009, "f4");
        LbrUnit u = new LbrUnit(SKL, h.cpu);
        u.setDebugctl(DebugCtl.LBR);
        h.cpu.setLbrUnit(u);
        h.run(20);
        List<LbrSnapshot.Entry> e = u.snapshot().entries();
        assertThat(e).hasSize(3);
        assertThat(e.get(2).cycles()).isEqualTo(1);
        assertThat(e.get(1).cycles()).as("3 nops and the jmp").isEqualTo(4);
        assertThat(e.get(1).mispredicted()).isFalse();
        assertThat(e.get(0).mispredicted()).isTrue();
        assertThat(e.get(0).cycles()).isEqualTo(1 + LbrUnit.MISPREDICT_PENALTY);
    }

    @Test
    void alwaysTakenLoopBranchIsLearned() {
        LbrUnit u = unit(SKL);
        for (int i = 0; i < 10; i++) {
            branch(u, 0x500, 0x400, BranchKind.CONDITIONAL);
        }
        assertThat(u.snapshot().entries().get(0).mispredicted()).isFalse();
        assertThat(u.snapshot().entries().get(9).mispredicted()).as("first encounter").isTrue();
        u.onNotTaken(0x500);
        branch(u, 0x500, 0x400, BranchKind.CONDITIONAL);
        assertThat(u.snapshot().entries().get(0).mispredicted()).as("one not-taken keeps a strong counter taken").isFalse();
    }
    /**
     * Two vCPUs share a physical CPU: the cycle clock switches to one that has retired fewer
     * instructions. The record's cycle count is 0, never negative, and perf's restore can write
     * every saved INFO back (found by the guest-code fuzzer: a negative count set reserved bits).
     */
    @Test
    void aClockThatGoesBackGivesZeroCyclesNotReservedInfoBits() {
        CpuHarness busy = new CpuHarness("90".repeat(300) + "f4").run(300);
        Cpu fresh = new Cpu(1, new GuestMemory(1 << 20));
        LbrUnit u = new LbrUnit(SKL, busy.cpu);
        u.setDebugctl(DebugCtl.LBR);
        branch(u, 0x1000, 0x2000, BranchKind.NEAR_REL_JMP);
        u.setClock(fresh);
        branch(u, 0x3000, 0x4000, BranchKind.NEAR_REL_JMP);
        long info = u.readMsr(Msr.MSR_LBR_INFO_0 + u.tos());
        assertThat(info & 0xFFFF).isZero();
        assertThat(info & LbrFormat.INFO_RESERVED).isZero();
        u.writeMsr(Msr.MSR_LBR_INFO_0 + u.tos(), info);
    }
}
