package dev.lbrvmm.vmm.cli;

import picocli.CommandLine.Option;

/** {@code --repeat} and {@code --warmup} of the bench commands that time guest runs; defaults per command. */
final class MeasuredRuns {
    @Option(names = "--repeat", paramLabel = "N", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--warmup", paramLabel = "N", description = "Unmeasured runs first (default: ${DEFAULT-VALUE}).")
    int warmup;

    MeasuredRuns(int repeat, int warmup) {
        this.repeat = repeat;
        this.warmup = warmup;
    }

    /** The usage error for out-of-range counts, or null. */
    String problem() {
        return repeat < 1 || warmup < 0 ? "--repeat must be at least 1 and --warmup at least 0" : null;
    }
}
