package dev.lbrvmm.vmm.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/** "reading FILE: 45% (1,234 samples)" on stderr, at most twice a second, and a last line at the end. */
final class ReadProgress {
    private static final long INTERVAL_NANOS = 500_000_000L;

    private final PrintStream err;
    private final Path file;
    private final long size;
    private long last = System.nanoTime();

    ReadProgress(PrintStream err, Path file, long size) {
        this.err = err;
        this.file = file;
        this.size = size;
    }

    void update(long bytes, long samples) {
        long now = System.nanoTime();
        if (now - last >= INTERVAL_NANOS) {
            last = now;
            print(bytes, samples);
        }
    }

    void done(long samples) {
        print(size, samples);
    }

    private void print(long bytes, long samples) {
        int pct = size == 0 ? 100 : (int) Math.min(100, 100 * bytes / size);
        err.printf(Locale.ROOT, "lbrvmm: report: reading %s: %d%% (%,d samples)%n", file, pct, samples);
    }
}
