package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The status line of long runs: nothing in the first seconds, then a line that the guest's output takes away first. */
class RunProgressTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final long[] retired = {0};

    private RunProgress progress(boolean enabled) {
        RunProgress p = new RunProgress(new PrintStream(err, true, StandardCharsets.UTF_8), enabled, 0);
        p.start(() -> retired[0]);
        return p;
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aLineAfterTwoSecondsThatTheGuestsOutputClearsFirst() {
        try (RunProgress p = progress(true)) {
            retired[0] = 100_000_000;
            p.tick(1_999_999_999L);
            assertThat(err()).isEmpty();
            p.tick(2_000_000_000L);
            assertThat(err()).isEqualTo("\r\033[Klbrvmm: running 2 s: 100,000,000 guest instructions (50 MIPS)");
            PrintStream guest = p.around(new PrintStream(out, true, StandardCharsets.UTF_8));
            guest.print("fib(30) = 832040\n");
            assertThat(err()).endsWith("MIPS)\r\033[K"); // taken away before the guest's bytes
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("fib(30) = 832040\n");
            guest.print("more\n");
            assertThat(err()).as("cleared once, not again while nothing is shown").endsWith("MIPS)\r\033[K");
            retired[0] = 400_000_000;
            p.tick(3_000_000_000L);
            assertThat(err()).endsWith("\r\033[Klbrvmm: running 3 s: 400,000,000 guest instructions (300 MIPS)");
        }
        assertThat(err()).as("closing takes the line away").endsWith("MIPS)\r\033[K");
    }

    @Test
    void withoutProgressNothingIsDrawnAndTheStreamsAreTheirOwn() {
        PrintStream guest = new PrintStream(out, true, StandardCharsets.UTF_8);
        try (RunProgress p = progress(false)) {
            retired[0] = 5;
            p.tick(10_000_000_000L);
            assertThat(p.around(guest)).isSameAs(guest);
        }
        assertThat(err()).isEmpty();
    }

    @Test
    void runWithProgressOnAShortGuestPrintsOnlyTheGuestsOutput() {
        CliRunner.Result r = CliRunner.run("run", CliRunner.config("fib"), "--progress");
        assertThat(r.status()).isZero();
        assertThat(r.out()).isEqualTo("fib(30) = 832040\n");
        assertThat(r.err()).doesNotContain("running");
    }
}
