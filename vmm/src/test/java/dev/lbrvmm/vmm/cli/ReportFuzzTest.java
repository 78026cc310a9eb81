package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Damaged sample streams (binary and text), LBR dumps and record data files through {@code lbrvmm report} with every
 * output on: the report is written or the input is refused with exit 1 and one line naming what is
 * wrong; never a Java exception, a usage error or exit 70. Seeds: the sampling guest's binary and
 * text streams, a dump and an lbrvmm record data file (ReportFuzzTestInputs).
 */
class ReportFuzzTest {
    private static Path dir;

    private static synchronized Path dir() throws Exception {
        if (dir == null) {
            dir = Files.createTempDirectory("lbrvmm-report-fuzz");
        }
        return dir;
    }

    @FuzzTest(maxDuration = "10m")
    void report(byte[] data) throws Exception {
        Path in = dir().resolve("input");
        Files.write(in, data);
        String program = CliRunner.home().resolve("examples/bin/lbr_sample.elf").toString();
        CliRunner.Result r = CliRunner.run("report", in.toString(), "-p", program, "--script", "--top", "0",
                "--html", dir().resolve("out.html").toString(), "--folded", dir().resolve("out.folded").toString());
        assertThat(r.status()).as(r.err()).isIn(0, ExitCodes.BAD_INPUT);
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("internal error");
        if (r.status() == ExitCodes.BAD_INPUT) {
            assertThat(r.err()).startsWith("lbrvmm: report: ").contains(in.toString());
            assertThat(r.err().strip().lines().count()).as("one line").isEqualTo(1);
        }
    }
}
