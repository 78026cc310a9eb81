package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-branch hotness over all samples, like {@code perf report --branch-stack --sort
 * symbol_from,symbol_to}: how often each (from, to) pair appears in the sampled stacks and how
 * often it was mispredicted (among records whose format has the bit).
 */
public final class BranchTable {
    /** One (from, to) pair. {@code withMispredictBit} counts the records that carry the bit. */
    public record Row(long from, long to, long count, long mispredicted, long withMispredictBit) {
        /** Mispredicted share, or NaN when no record had the bit. */
        public double mispredictRate() {
            return withMispredictBit == 0 ? Double.NaN : (double) mispredicted / withMispredictBit;
        }
    }

    private static final class Counts {
        long count, mispredicted, withBit;
    }

    private record Key(long from, long to) {}

    private final Map<Key, Counts> counts = new HashMap<>();
    private long records;

    public void add(Sample s) {
        for (LbrSnapshot.Entry e : s.branches()) {
            Counts c = counts.computeIfAbsent(new Key(e.from(), e.to()), k -> new Counts());
            c.count++;
            if (e.mispredicted() != null) {
                c.withBit++;
                if (e.mispredicted()) {
                    c.mispredicted++;
                }
            }
            records++;
        }
    }

    /** All records counted. */
    public long records() {
        return records;
    }

    /** Rows hottest first (ties: lower from, then lower to). */
    public List<Row> rows() {
        List<Row> out = new ArrayList<>(counts.size());
        counts.forEach((k, c) -> out.add(new Row(k.from(), k.to(), c.count, c.mispredicted, c.withBit)));
        out.sort(Comparator.comparingLong(Row::count).reversed().thenComparingLong(Row::from).thenComparingLong(Row::to));
        return out;
    }
}
