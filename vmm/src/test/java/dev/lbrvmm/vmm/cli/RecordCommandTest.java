package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lbrvmm record} and {@code report} on what it wrote, through the CLI entry point. */
class RecordCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void recordWritesStacksWithTheConfigTheCpuAndTheProgramsIdentity() throws Exception {
        Path data = dir.resolve("fib.data");
        CliRunner.Result r = CliRunner.run("record", CliRunner.config("fib"), "--output", data.toString());
        assertThat(r.status()).as(r.err()).isEqualTo(0); // the guest's own status (its self-check passed), as run gives it
        assertThat(r.out()).isEqualTo("fib(30) = 832040\n");
        assertThat(r.err()).contains("written to " + data).contains("32-entry LBR");
        JsonNode d = JSON.readTree(data.toFile());
        assertThat(d.get("lbrvmm-data").asInt()).isEqualTo(1);
        assertThat(d.get("config").get("text").asText()).contains("program.path = \"../examples/bin/fib.elf\"");
        assertThat(d.get("config").get("overrides").toString()).contains("kvm.guest-lbr=on", "guest.msrs.IA32_DEBUGCTL=1");
        assertThat(d.get("cpu").get("model").asText()).isEqualTo("skylake-client");
        assertThat(d.get("cpu").get("lbr-depth").asInt()).isEqualTo(32);
        Path elf = CliRunner.home().resolve("examples/bin/fib.elf");
        assertThat(d.get("program").get("sha256").asText()).isEqualTo(ProgramIdentity.of(elf).sha256());
        assertThat(d.get("program").get("size").asLong()).isEqualTo(Files.size(elf));
        assertThat(d.get("symbols").toString()).contains("\"name\":\"fib\"");
        // fib(30) runs about 23 million instructions: a sample per 100,000 (the default time slice)
        assertThat(d.get("samples").size()).isBetween(200, 260);
        JsonNode first = d.get("samples").get(0);
        assertThat(first.get("entries").size()).isEqualTo(32);
        assertThat(first.get("debugctl").asLong() & 1).isEqualTo(1);
        assertThat(d.get("vcpus").get(0).get("entries").size()).as("the stack at exit, as --dump-lbr writes it").isEqualTo(32);
    }

    @Test
    void reportReadsTheDataFileAndNamesAddressesFromWhatWasRecorded() throws Exception {
        Path data = dir.resolve("fib.data");
        assertThat(CliRunner.run("record", CliRunner.config("fib"), "--output", data.toString(), "--period", "200000").status()).isEqualTo(0);
        CliRunner.Result r = CliRunner.run("report", data.toString(), "--top", "3");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("lbrvmm record data", "one per 200,000 instructions", "fib.elf").contains("fib+0x");
        assertThat(r.out()).doesNotContain("addresses are not named");
    }

    @Test
    void reportWithoutArgumentsReadsLbrvmmDataHere() throws Exception {
        Path here = Path.of("lbrvmm.data"); // the working directory, as a user would run it
        try {
            assertThat(CliRunner.run("record", CliRunner.config("fib"), "--period", "0").status()).isEqualTo(0);
            CliRunner.Result r = CliRunner.run("report", "--top", "2");
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("# lbrvmm.data: lbrvmm record data (stacks at exit), 1 stack");
        } finally {
            Files.deleteIfExists(here);
        }
        CliRunner.Result none = CliRunner.run("report");
        assertThat(none.status()).isEqualTo(ExitCodes.USAGE);
        assertThat(none.err()).contains("no input given and no lbrvmm.data here").contains("lbrvmm record CONFIG");
    }

    @Test
    void aDifferentProgramIsNamedAndAGoneOneFallsBackToTheRecordedSymbols() throws Exception {
        Path copy = dir.resolve("fib-copy.elf");
        Files.copy(CliRunner.home().resolve("examples/bin/fib.elf"), copy);
        Path data = dir.resolve("copy.data");
        assertThat(CliRunner.run("record", "--kernel", copy.toString(), "--output", data.toString()).status()).isEqualTo(0);

        Path loop = CliRunner.home().resolve("examples/bin/loop.elf");
        CliRunner.Result other = CliRunner.run("report", data.toString(), "-p", loop.toString());
        assertThat(other.err()).contains("warning: --program " + loop).contains("is not the program the samples were recorded from, " + copy);

        Files.delete(copy);
        CliRunner.Result gone = CliRunner.run("report", data.toString(), "--top", "3");
        assertThat(gone.status()).isZero();
        assertThat(gone.err()).contains(copy + " is gone since it was recorded").contains("recorded symbols");
        assertThat(gone.out()).contains("fib+0x");
    }

    @Test
    void callStackModeRecordsCallChains() throws Exception {
        Path data = dir.resolve("cs.data");
        Path folded = dir.resolve("cs.folded");
        assertThat(CliRunner.run("record", CliRunner.config("fib"), "--call-graph", "lbr", "--output", data.toString()).status()).isEqualTo(0);
        CliRunner.Result r = CliRunner.run("report", data.toString(), "--folded", folded.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(JSON.readTree(data.toFile()).get("samples").get(0).get("lbr_select").asLong()).isEqualTo(0x3c4);
        assertThat(Files.readString(folded)).contains("_start;fib;fib;fib;fib;fib;fib;fib;fib");
    }

    @Test
    void badRequestsAreRefusedBeforeAnythingRuns() throws Exception {
        CliRunner.Result noCallStack = CliRunner.run("record", CliRunner.config("fib"), "--call-graph", "lbr", "-o", "guest.cpu.model=nehalem",
                "-o", "host.cpu-model=nehalem", "--output", dir.resolve("x.data").toString());
        assertThat(noCallStack.status()).isEqualTo(ExitCodes.USAGE);
        assertThat(noCallStack.err()).contains("nehalem has no LBR call-stack mode");
        assertThat(noCallStack.out()).isEmpty();
        CliRunner.Result badMode = CliRunner.run("record", CliRunner.config("fib"), "--call-graph", "fp");
        assertThat(badMode.err()).contains("--call-graph takes 'lbr'");
        CliRunner.Result overConfig = CliRunner.run("record", CliRunner.config("fib"), "--output", CliRunner.config("fib"));
        assertThat(overConfig.status()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(overConfig.err()).contains("is the config file").contains("refusing to overwrite it");
        assertThat(CliRunner.run("record", CliRunner.config("fib"), "--period", "-1").status()).isEqualTo(ExitCodes.USAGE);
        assertThat(Files.exists(dir.resolve("x.data"))).isFalse();
    }

    @Test
    void everyOutputFileIsNamedOnStderrWhenWritten() throws Exception {
        Path dump = dir.resolve("lbr.json");
        Path serial = dir.resolve("serial.txt");
        CliRunner.Result run = CliRunner.run("run", CliRunner.config("fib"), "-o", "kvm.guest-lbr=on", "-o", "guest.msrs.IA32_DEBUGCTL=1",
                "-o", "guest.serial.output=\"" + serial + "\"", "--dump-lbr", dump.toString());
        assertThat(run.err()).contains("lbrvmm: LBR stacks of 1 vCPU written to " + dump)
                .contains("lbrvmm: COM1 output (guest.serial.output) written to " + serial);
        assertThat(Files.readString(serial)).isEqualTo("fib(30) = 832040\n");
        Path html = dir.resolve("r.html");
        Path folded = dir.resolve("r.folded");
        CliRunner.Result report = CliRunner.run("report", dump.toString(), "--html", html.toString(), "--folded", folded.toString());
        assertThat(report.err()).contains("lbrvmm: report: HTML report written to " + html)
                .contains("lbrvmm: report: folded stacks written to " + folded);
        assertThat(report.out()).as("the dump names its program").contains("fib+0x");
    }

    @Test
    void dumpsNameTheirProgramSoReportFindsItAndOldDumpsStillRead() throws Exception {
        Path dump = dir.resolve("lbr.json");
        assertThat(CliRunner.run("run", CliRunner.config("fib"), "-o", "kvm.guest-lbr=on", "-o", "guest.msrs.IA32_DEBUGCTL=1",
                "--dump-lbr", dump.toString()).status()).isZero();
        JsonNode d = JSON.readTree(dump.toFile());
        Path elf = CliRunner.home().resolve("examples/bin/fib.elf");
        assertThat(d.get("program").get("sha256").asText()).isEqualTo(ProgramIdentity.of(elf).sha256());
        CliRunner.Result named = CliRunner.run("report", dump.toString(), "--top", "3");
        assertThat(named.out()).as("the dump's program names the addresses without -p").contains("fib+0x");
        CliRunner.Result other = CliRunner.run("report", dump.toString(), "-p", CliRunner.home().resolve("examples/bin/loop.elf").toString());
        assertThat(other.err()).contains("is not the program the samples were recorded from");
        Path old = dir.resolve("old.json"); // as lbrvmm wrote dumps before they named their program
        ((com.fasterxml.jackson.databind.node.ObjectNode) d).remove("program");
        java.nio.file.Files.writeString(old, d.toString());
        CliRunner.Result unnamed = CliRunner.run("report", old.toString());
        assertThat(unnamed.status()).isZero();
        assertThat(unnamed.out()).as("without a program, a hint instead of doubled addresses")
                .contains("addresses are not named: give --program").doesNotContainPattern("0x[0-9a-f]+ 0x[0-9a-f]+");
    }

    @Test
    void sampleStreamsNameTheirProgramBesideThemAndAStaleSideFileIsNotBelieved() throws Exception {
        Path stream = dir.resolve("s.samples");
        CliRunner.Result run = CliRunner.run("run", CliRunner.config("lbr_sample"), "-o", "guest.serial.output=" + stream,
                "-o", "guest.program.args=[\"20000\"]");
        assertThat(run.status()).as(run.err()).isZero();
        Path side = dir.resolve("s.samples.program.json");
        assertThat(run.err()).contains("program identity written to " + side);
        Path elf = CliRunner.home().resolve("examples/bin/lbr_sample.elf");
        assertThat(JSON.readTree(side.toFile()).get("program").get("sha256").asText()).isEqualTo(ProgramIdentity.of(elf).sha256());
        assertThat(Files.readAllBytes(stream)).as("the stream is the guest's bytes alone").startsWith("LBRSMPL1".getBytes());

        CliRunner.Result named = CliRunner.run("report", stream.toString(), "--top", "3");
        assertThat(named.status()).as(named.err()).isZero();
        assertThat(named.out()).as("the side file names the program without -p").contains("fib+0x").doesNotContain("addresses are not named");
        CliRunner.Result other = CliRunner.run("report", stream.toString(), "-p", CliRunner.home().resolve("examples/bin/loop.elf").toString());
        assertThat(other.err()).contains("is not the program the samples were recorded from", "lbr_sample.elf");

        byte[] first = Files.readAllBytes(side); // a later run rewrites the stream, an old side file stays
        assertThat(CliRunner.run("run", CliRunner.config("lbr_sample"), "-o", "guest.serial.output=" + stream,
                "-o", "guest.program.args=[\"30000\"]").status()).isZero();
        Files.write(side, first);
        CliRunner.Result stale = CliRunner.run("report", stream.toString(), "--top", "3");
        assertThat(stale.err()).contains(side + " describes an earlier s.samples");
        assertThat(stale.out()).contains("addresses are not named");

        Files.delete(side); // streams written before side files still read
        CliRunner.Result old = CliRunner.run("report", stream.toString());
        assertThat(old.status()).isZero();
        assertThat(old.err()).isEmpty();
    }
}
