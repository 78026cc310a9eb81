package dev.lbrvmm.vmm.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random branch sequences (fixed seeds) through the LBR unit, compared with a reference ring and
 * a reference call stack written independently here, for every record format 0-7.
 */
class LbrFormatPropertyTest {

    /** A model with the given format: 16 entries, NHM MSR bases, INFO MSRs for formats 5 and 7. */
    private static CpuModel model(int fmt) {
        return new CpuModel("fmt" + fmt, "synthetic", CpuModel.INTEL, 6, 0x5E, 0, 16, Msr.MSR_LBR_NHM_FROM,
                Msr.MSR_LBR_NHM_TO, fmt == 5 || fmt == 7 ? Msr.MSR_LBR_INFO_0 : 0, fmt, fmt, true, true, fmt == 4 || fmt == 5,
                4, 4, 48, 3, 48);
    }

    private static long canonical(Random r) {
        long a = r.nextLong() & 0x0000_7FFF_FFFF_FFF0L;
        return r.nextBoolean() ? a : a | 0xFFFF_8000_0000_0000L;
    }

    /** Which LBR_SELECT bit suppresses a class (the reference's own table, from the SDM's MSR_LBR_SELECT layout). */
    private static int selectBit(BranchKind k) {
        return switch (k) {
            case CONDITIONAL -> 2;
            case NEAR_REL_CALL -> 3;
            case NEAR_IND_CALL -> 4;
            case NEAR_RET -> 5;
            case NEAR_IND_JMP -> 6;
            case NEAR_REL_JMP -> 7;
            case FAR -> 8;
        };
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7})
    void ringMatchesReference(int fmt) {
        for (long seed = 1; seed <= 20; seed++) {
            Random r = new Random(seed * 7919 + fmt);
            CpuModel m = model(fmt);
            LbrUnit u = new LbrUnit(m, new Cpu(0, new GuestMemory(1 << 20)));
            u.setDebugctl(DebugCtl.LBR);
            long select = r.nextInt(4) == 0 ? r.nextInt(0x200) : 0;
            u.writeMsr(Msr.MSR_LBR_SELECT, select);
            List<long[]> reference = new ArrayList<>();
            int n = 1 + r.nextInt(100);
            for (int i = 0; i < n; i++) {
                BranchKind k = BranchKind.of(r.nextInt(7));
                int cpl = r.nextBoolean() ? 0 : 3;
                long from = canonical(r);
                long to = canonical(r);
                u.onBranch(from, to, k, cpl);
                boolean suppressed = (select & (1L << selectBit(k))) != 0 || (select & (cpl == 0 ? 1 : 2)) != 0;
                if (!suppressed) {
                    reference.add(fmt == 0 ? new long[] {from & 0xFFFF_FFFFL, to & 0xFFFF_FFFFL} : new long[] {from, to});
                }
            }
            String ctx = "format " + fmt + " seed " + seed;
            assertThat(u.tos()).as(ctx).isEqualTo(reference.size() % 16);
            List<LbrSnapshot.Entry> got = u.snapshot().entries();
            int expected = Math.min(16, reference.size());
            assertThat(got).as(ctx).hasSize(expected);
            for (int k = 0; k < expected; k++) {
                long[] want = reference.get(reference.size() - 1 - k);
                assertThat(got.get(k).from()).as("%s entry %d from", ctx, k).isEqualTo(want[0]);
                assertThat(got.get(k).to()).as("%s entry %d to", ctx, k).isEqualTo(want[1]);
                assertThat(got.get(k).mispredicted() != null).isEqualTo(LbrFormat.hasMispredict(fmt));
                assertThat(got.get(k).cycles() != null).isEqualTo(LbrFormat.hasCycles(fmt));
            }
            // Every recorded raw value is writable back (it is what a save/restore would write).
            long[][] raw = u.rawEntries();
            for (int i = 0; i < 16; i++) {
                u.writeMsr(Msr.MSR_LBR_NHM_FROM + i, raw[0][i]);
                u.writeMsr(Msr.MSR_LBR_NHM_TO + i, raw[1][i]);
                if (m.infoBase() != 0) {
                    u.writeMsr(Msr.MSR_LBR_INFO_0 + i, raw[2][i]);
                }
            }
            assertThat(u.snapshot().entries()).as(ctx + " after rewrite").isEqualTo(got);
        }
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {4, 5, 6, 7})
    void callStackMatchesReferenceStack(int fmt) {
        for (long seed = 1; seed <= 20; seed++) {
            Random r = new Random(seed * 104729 + fmt);
            LbrUnit u = new LbrUnit(model(fmt), new Cpu(0, new GuestMemory(1 << 20)));
            u.setDebugctl(DebugCtl.LBR);
            u.writeMsr(Msr.MSR_LBR_SELECT, 0x4 | 0x40 | 0x80 | 0x100 | LbrUnit.EN_CALLSTACK);
            Deque<Long> stack = new ArrayDeque<>();
            int depthNow = 0;
            for (int i = 0; i < 60; i++) {
                long from = canonical(r);
                long to = canonical(r);
                // Within the ring's depth a call stack is exactly LIFO (deeper, hardware overwrites the oldest).
                if (depthNow == 16 || (depthNow > 0 && r.nextInt(3) == 0)) {
                    u.onBranch(from, to, BranchKind.NEAR_RET, 0);
                    stack.pop();
                    depthNow--;
                } else {
                    u.onBranch(from, to, r.nextBoolean() ? BranchKind.NEAR_REL_CALL : BranchKind.NEAR_IND_CALL, 0);
                    stack.push(to);
                    depthNow++;
                }
            }
            List<Long> want = new ArrayList<>(stack);
            assertThat(u.snapshot().entries()).extracting(LbrSnapshot.Entry::to).as("seed " + seed).containsExactlyElementsOf(want);
        }
    }
}
