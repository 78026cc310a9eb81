package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outputs never replace the inputs of the same command: the command is refused and the input is byte for byte unchanged. */
class OutputSafetyTest {
    @TempDir
    Path dir;

    private Path copyOf(String example, String name) throws Exception {
        return Files.copy(CliRunner.home().resolve(example), dir.resolve(name));
    }

    @Test
    void runDumpLbrOverTheProgramIsRefused() throws Exception {
        Path elf = copyOf("examples/bin/fib.elf", "k.elf");
        byte[] before = Files.readAllBytes(elf);
        CliRunner.Result r = CliRunner.run("run", "--kernel", elf.toString(), "--dump-lbr", elf.toString());
        assertThat(r.status()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("--dump-lbr " + elf + " is the guest program").contains("refusing to overwrite it");
        assertThat(Files.readAllBytes(elf)).isEqualTo(before);
    }

    @Test
    void serialOutputNamingTheConfigIsRefusedThroughAHardLink() throws Exception {
        Path conf = dir.resolve("g.conf");
        Files.writeString(conf, "include file(\"" + CliRunner.home().resolve("configs/fib.conf") + "\")\n");
        Path link = Files.createLink(dir.resolve("same.conf"), conf);
        String before = Files.readString(conf);
        CliRunner.Result r = CliRunner.run("run", conf.toString(), "-o", "guest.serial.output=" + link);
        assertThat(r.status()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("guest.serial.output").contains("is the config file");
        assertThat(Files.readString(conf)).isEqualTo(before);
    }

    @Test
    void reportHtmlOverItsInputIsRefusedBeforeReading() throws Exception {
        Path samples = dir.resolve("s.bin");
        Files.write(samples, new byte[] {1, 2, 3});
        CliRunner.Result r = CliRunner.run("report", samples.toString(), "--html", dir.resolve(".").resolve("s.bin").toString());
        assertThat(r.status()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("--html").contains("is input 1").contains("refusing to overwrite it");
        assertThat(Files.readAllBytes(samples)).containsExactly(1, 2, 3);
    }

    @Test
    void dumpLbrReplacesAnOlderDumpWhole() throws Exception {
        Path dump = dir.resolve("d.json");
        Files.writeString(dump, "old");
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(),
                "-o", "guest.serial.output=none", "--dump-lbr", dump.toString());
        assertThat(r.status()).as("the guest's exit status (fib passes its self-check: exit(0)), stderr: %s", r.err()).isEqualTo(0);
        assertThat(Files.readString(dump)).startsWith("{").contains("\"vcpus\"");
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("d.json");
        }
    }

    @Test
    void aFailedSetupLeavesTheOldSerialFile() throws Exception {
        Path serial = Files.writeString(dir.resolve("serial.txt"), "previous run");
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(),
                "-o", "guest.serial.output=" + serial, "-o", "guest.program.stdout=" + dir.resolve("no/such/folder/out.txt"));
        assertThat(r.status()).as(r.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("cannot open guest.program.stdout file").contains("its folder does not exist");
        assertThat(Files.readString(serial)).isEqualTo("previous run");
    }
}
