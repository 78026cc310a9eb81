package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lbrvmm run} the sampling guest, then {@code lbrvmm report} on what it wrote, through the CLI entry point. */
class ReportCommandTest {
    @TempDir
    Path dir;

    Path sample() {
        Path samples = dir.resolve("s.bin");
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/lbr_sample.conf").toString(),
                "-o", "guest.serial.output=" + samples, "-o", "guest.program.args=[\"20000\"]");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).matches("(?s)samples: \\d+\\n");
        return samples;
    }

    @Test
    void tableListingFoldedAndHtmlFromOneRun() throws Exception {
        Path samples = sample();
        Path html = dir.resolve("r.html");
        Path folded = dir.resolve("r.folded");
        String elf = CliRunner.home().resolve("examples/bin/lbr_sample.elf").toString();
        CliRunner.Result r = CliRunner.run("report", samples.toString(), "-p", elf, "--html", html.toString(),
                "--folded", folded.toString(), "--progress", "--top", "5");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("lbr_sample stream").contains("one per 20,000 branches, LBR format 5, depth 32")
                .contains("fib+0xc").contains("more (--top 0 shows all)");
        assertThat(r.out().lines().filter(l -> l.matches("\\s+[\\d,]+\\s+[\\d.]+% .*"))).hasSize(5);
        assertThat(r.err()).contains("lbrvmm: report: reading " + samples + ": 100%");
        assertThat(Files.readString(html)).contains("<svg").contains("fib");
        assertThat(Files.readAllLines(folded)).allMatch(l -> l.matches("(\\[truncated\\];)?[\\w;]+ \\d+")).anyMatch(l -> l.startsWith("[truncated];fib;fib"));

        CliRunner.Result viaConfig = CliRunner.run("report", samples.toString(), "-p",
                CliRunner.home().resolve("configs/lbr_sample.conf").toString(), "--top", "1");
        assertThat(viaConfig.status()).as(viaConfig.err()).isZero();
        assertThat(viaConfig.out()).contains("fib+0x");
        CliRunner.Result script = CliRunner.run("report", samples.toString(), "-p", elf, "--script", "--top", "0", "--symbol", "fib");
        assertThat(script.status()).as(script.err()).isZero();
        assertThat(script.out()).contains("s.bin sample 1: ip 0x").contains("(fib+0xc)").contains("-> ").doesNotContain("(pmi_handler)")
                .contains("samples have their sampled address in fib");
    }

    @Test
    void badInputsExitOneWithTheFileAndPlace() throws Exception {
        Path samples = sample();
        byte[] b = Files.readAllBytes(samples);
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(b, b.length - 100));
        CliRunner.Result r = CliRunner.run("report", cut.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).startsWith("lbrvmm: report: " + cut + ": byte 0x").contains("truncated in sample");
        assertThat(r.err().lines()).hasSize(1);

        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello\n");
        CliRunner.Result t = CliRunner.run("report", text.toString());
        assertThat(t.status()).isEqualTo(1);
        assertThat(t.err()).contains("notes.txt:1:").contains("expected an lbr_sample stream or an LBR dump");

        CliRunner.Result p = CliRunner.run("report", samples.toString(), "-p", text.toString());
        assertThat(p.status()).isEqualTo(1);
        assertThat(p.err()).contains("--program: ").contains("not an ELF file");

        Path typo = dir.resolve("typo.conf");
        Files.writeString(typo, "guest.programm.path = x\n");
        CliRunner.Result c = CliRunner.run("report", samples.toString(), "-p", typo.toString());
        assertThat(c.status()).isEqualTo(1);
        assertThat(c.err()).contains("--program: ").contains("typo.conf:1").contains("guest.programm");

        CliRunner.Result nosuch = CliRunner.run("report", samples.toString(), "-p",
                CliRunner.home().resolve("examples/bin/lbr_sample.elf").toString(), "--symbol", "fibb");
        assertThat(nosuch.status()).isEqualTo(2);
        assertThat(nosuch.err()).contains("--symbol fibb: the program has no such symbol");

        CliRunner.Result named = CliRunner.run("report", samples.toString(), "--symbol", "fib");
        assertThat(named.status()).as("the stream's side file names its program").isZero();
        Files.delete(dir.resolve(samples.getFileName() + ".program.json"));
        CliRunner.Result s = CliRunner.run("report", samples.toString(), "--symbol", "fib");
        assertThat(s.status()).isEqualTo(2);
        assertThat(s.err()).contains("--symbol needs --program");
    }

    @Test
    void theSamplingGuestRefusesArgumentsItCannotHonour() {
        String conf = CliRunner.home().resolve("configs/lbr_sample.conf").toString();
        String out = "guest.serial.output=" + dir.resolve("x.bin");
        CliRunner.Result big = CliRunner.run("run", conf, "-o", out, "-o", "guest.program.args=[\"2147483648\"]");
        assertThat(big.status()).isEqualTo(2);
        assertThat(big.out()).contains("PERIOD (argv[1]) must be 0 to 2147483647");
        CliRunner.Result zero = CliRunner.run("run", conf, "-o", out, "-o", "guest.program.args=[\"100\", \"1\", \"0\"]");
        assertThat(zero.status()).isEqualTo(2);
        assertThat(zero.out()).contains("ROUNDS (argv[3]) must be at least 1");
        CliRunner.Result hex = CliRunner.run("run", conf, "-o", out, "-o", "guest.program.args=[\"0x7fffffff\"]");
        assertThat(hex.status()).as("0x7fffffff is the largest period").isZero();
    }

    /** The benchmark's plumbing on a tiny workload (its figures are not checked here). */
    @Test
    void samplingBenchRunsInOneJvmAndInForks() {
        CliRunner.Result one = CliRunner.run("bench", "sampling", "--forks", "0", "--rounds", "1", "--repeat", "1", "--warmup", "0");
        assertThat(one.status()).as(one.err()).isZero();
        assertThat(one.out()).contains("sampling every 10,000").contains("runs alternating in one JVM")
                .containsPattern("sampling cost: vs LBR on without sampling [+-]\\d+\\.\\d%");
        CliRunner.Result forked = CliRunner.run("bench", "sampling", "--forks", "1", "--rounds", "1", "--repeat", "1", "--warmup", "0",
                "--period", "5000");
        assertThat(forked.status()).as(forked.err()).isZero();
        assertThat(forked.out()).contains("sampling every 5,000").contains("1 JVMs per mode");
        assertThat(forked.err()).contains("fork round 1 of 1 done");
        CliRunner.Result bad = CliRunner.run("bench", "sampling", "--period", "0");
        assertThat(bad.status()).isEqualTo(2);
    }

    @Test
    void readsLbrDumpsToo() throws Exception {
        Path dump = dir.resolve("lbr.json");
        CliRunner.Result run = CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(),
                "-o", "kvm.guest-lbr=on", "-o", "guest.msrs.IA32_DEBUGCTL=1", "--dump-lbr", dump.toString());
        assertThat(run.status()).isEqualTo(0);
        CliRunner.Result r = CliRunner.run("report", dump.toString(), "-p", CliRunner.home().resolve("examples/bin/fib.elf").toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("LBR dump, 1 vCPU stack\n").contains("32 branch records");
    }
}
