package dev.lbrvmm.vmm.report;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;

/**
 * A perf-script-like listing: one header line per sample (number, sampled address with its
 * symbol, record count), then its branch stack newest first, one record per line:
 * {@code from (symbol) -> to (symbol)  P|M  cycles}, P = predicted, M = mispredicted, "-" where
 * the format does not record it.
 */
public final class SampleListing {
    private final ProgramImage program;

    public SampleListing(ProgramImage program) {
        this.program = program;
    }

    public String format(Sample s) {
        StringBuilder b = new StringBuilder(64 + 80 * s.branches().size());
        b.append(String.format("%s: ", s.origin()));
        if (s.ip() >= 0) {
            b.append(String.format("ip %#x %s, ", s.ip(), program.describe(s.ip())));
        }
        b.append(s.branches().size()).append(s.branches().size() == 1 ? " branch\n" : " branches\n");
        for (LbrSnapshot.Entry e : s.branches()) {
            b.append(String.format("    %#14x %-24s -> %#14x %-24s %s %6s%n", e.from(), "(" + program.describe(e.from()) + ")",
                    e.to(), "(" + program.describe(e.to()) + ")",
                    e.mispredicted() == null ? "-" : e.mispredicted() ? "M" : "P",
                    e.cycles() == null ? "-" : e.cycles().toString()));
        }
        return b.toString();
    }
}
