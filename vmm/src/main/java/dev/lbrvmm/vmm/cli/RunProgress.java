package dev.lbrvmm.vmm.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The status line of a long run on stderr, "lbrvmm: running 12 s: 1,234,567,890 guest instructions
 * (98 MIPS)", first after {@link #FIRST_NANOS} and then once a second, redrawn in place. The
 * guest's own output to the terminal goes through {@link #around} so that the line is taken away
 * before the guest writes: the two never share a line. Closing it takes the line away.
 */
final class RunProgress implements AutoCloseable {
    static final long FIRST_NANOS = 2_000_000_000L;
    private static final String CLEAR = "\r\033[K";

    private final PrintStream err;
    private final boolean enabled;
    private final long start;
    private ScheduledExecutorService ticker;
    private LongSupplier retired;
    private boolean showing;
    private long lastNanos;
    private long lastRetired;

    /** A status line from {@code startNanos} on, or, when not {@code enabled}, nothing at all. */
    RunProgress(PrintStream err, boolean enabled, long startNanos) {
        this.err = err;
        this.enabled = enabled;
        this.start = startNanos;
        this.lastNanos = startNanos;
    }

    /** Starts the status line in the background, reading the guest instructions retired so far from {@code retired}. */
    void start(LongSupplier retired) {
        if (!enabled) {
            return;
        }
        this.retired = retired;
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lbrvmm-progress");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(() -> tick(System.nanoTime()), FIRST_NANOS, 1_000_000_000L, TimeUnit.NANOSECONDS);
    }

    /** Draws the line for time {@code now} (a no-op before {@link #FIRST_NANOS}). */
    synchronized void tick(long now) {
        if (retired == null || now - start < FIRST_NANOS) {
            return;
        }
        long n = retired.getAsLong();
        double mips = now > lastNanos ? (n - lastRetired) * 1e3 / (now - lastNanos) : 0;
        lastNanos = now;
        lastRetired = n;
        err.printf(Locale.ROOT, "%slbrvmm: running %d s: %,d guest instructions (%.0f MIPS)", CLEAR, (now - start) / 1_000_000_000L, n, mips);
        err.flush();
        showing = true;
    }

    /** Takes the line away, if it is shown. */
    synchronized void clear() {
        if (showing) {
            err.print(CLEAR);
            err.flush();
            showing = false;
        }
    }

    /** {@code out} with the status line taken away before each write. */
    PrintStream around(PrintStream out) {
        if (!enabled) {
            return out;
        }
        return new PrintStream(new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                clear();
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                clear();
                out.write(b, off, len);
            }
        }, true);
    }

    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        clear();
    }
}
