package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import dev.lbrvmm.vmm.CapturedLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input is a clear one-line error with a non-zero status and no stack trace. */
@ExtendWith(CapturedLog.class)
class BadInputTest {
    @TempDir
    Path dir;

    private static byte[] exampleElf() throws IOException {
        return Files.readAllBytes(CliRunner.home().resolve("examples/bin/fib.elf"));
    }

    private Path file(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private static void assertCleanError(CliRunner.Result r, String... fragments) {
        assertThat(r.status()).as("exit status, stderr: %s", r.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).startsWith("lbrvmm: error: ");
        for (String f : fragments) {
            assertThat(r.err()).contains(f);
        }
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.err().strip().lines().count()).as("one line").isEqualTo(1);
    }

    @Test
    void notAnElfFile() throws Exception {
        Path p = file("garbage.elf", "hello world, not an ELF".getBytes());
        assertCleanError(CliRunner.run("run", "--kernel", p.toString()), "garbage.elf", "not an ELF file", "format = flat");
    }

    @Test
    void truncatedElfHeader() throws Exception {
        Path p = file("short.elf", Arrays.copyOf(exampleElf(), 40));
        assertCleanError(CliRunner.run("run", "--kernel", p.toString()), "short.elf", "truncated ELF header");
    }

    @Test
    void truncatedElfSegments() throws Exception {
        Path p = file("cut.elf", Arrays.copyOf(exampleElf(), 300));
        assertCleanError(CliRunner.run("run", "--kernel", p.toString()), "cut.elf", "runs past the end");
    }

    @Test
    void offsetsNearTwoToTheSixtyThreeAreErrorsNotOverflows() throws Exception {
        byte[] ph = exampleElf();
        java.nio.ByteBuffer.wrap(ph).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(32, 0x7FFF_FFFF_FFFF_FFF0L); // e_phoff
        assertCleanError(CliRunner.run("run", "--kernel", file("phoff.elf", ph).toString()), "phoff.elf", "program header table");
        byte[] seg = exampleElf();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(seg).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int phoff = (int) b.getLong(32);
        b.putLong(phoff + 8, 0x7FFF_FFFF_FFFF_FF00L); // the first segment's p_offset
        assertCleanError(CliRunner.run("run", "--kernel", file("poff.elf", seg).toString()), "poff.elf", "runs past the end");
    }

    @Test
    void thirtyTwoBitWrongMachineAndPositionIndependentElf() throws Exception {
        byte[] elf32 = exampleElf();
        elf32[4] = 1;
        assertCleanError(CliRunner.run("run", "--kernel", file("a.elf", elf32).toString()), "32-bit");
        byte[] arm = exampleElf();
        ByteBuffer.wrap(arm).order(ByteOrder.LITTLE_ENDIAN).putShort(18, (short) 183);
        assertCleanError(CliRunner.run("run", "--kernel", file("b.elf", arm).toString()), "machine 183", "not x86-64");
        byte[] dyn = exampleElf();
        ByteBuffer.wrap(dyn).order(ByteOrder.LITTLE_ENDIAN).putShort(16, (short) 3);
        assertCleanError(CliRunner.run("run", "--kernel", file("c.elf", dyn).toString()), "ET_DYN", "-static");
    }

    @Test
    void programLargerThanMemory() throws Exception {
        assertCleanError(CliRunner.run("run", "--kernel", CliRunner.home().resolve("examples/bin/fib.elf").toString(),
                "-o", "guest.memory=1M"), "outside guest memory", "guest.memory");
        Path big = file("big.bin", new byte[2 << 20]);
        assertCleanError(CliRunner.run("run", "--kernel", big.toString(), "-o", "guest.program.format=flat", "-o", "guest.memory=1M"),
                "big.bin", "does not fit");
    }

    @Test
    void emptyAndTruncatedFlatBinaries() throws Exception {
        assertCleanError(CliRunner.run("run", "--kernel", file("empty.bin", new byte[0]).toString(), "-o", "guest.program.format=flat"),
                "empty.bin", "is empty");
        assertCleanError(CliRunner.run("run", "--kernel", file("cut.bin", new byte[] {(byte) 0x90}).toString(),
                "-o", "guest.program.format=flat", "-o", "guest.program.entry=\"0x100010\""), "cut.bin", "truncated file");
    }

    @Test
    void missingFiles() throws Exception {
        assertCleanError(CliRunner.run("run", dir.resolve("none.conf").toString()), "none.conf", "does not exist");
        assertCleanError(CliRunner.run("run", "--kernel", dir.resolve("none.elf").toString()), "none.elf", "does not exist");
        assertCleanError(CliRunner.run("run"), "no guest program", "--kernel");
    }

    @Test
    void configTyposAndWrongTypes() throws Exception {
        Path typo = dir.resolve("typo.conf");
        Files.writeString(typo, "guest.cpu.modle = haswell\n");
        assertCleanError(CliRunner.run("run", typo.toString()), typo + ":1", "guest.cpu.modle", "guest.cpu.model");
        Path type = dir.resolve("type.conf");
        Files.writeString(type, "\n\nguest.vcpus = lots\n");
        assertCleanError(CliRunner.run("run", type.toString()), "type.conf: 3", "guest.vcpus");
    }

    @Test
    void msrTheModelDoesNotAccept() throws Exception {
        assertCleanError(CliRunner.run("run", "--kernel", CliRunner.home().resolve("examples/bin/fib.elf").toString(),
                "-o", "guest.msrs.IA32_DEBUGCTL=\"0x40\""), "guest.msrs.IA32_DEBUGCTL", "does not accept 0x40");
    }

    @Test
    void refusedGuestLbrSaysWhy() throws Exception {
        assertCleanError(CliRunner.run("run", "--kernel", CliRunner.home().resolve("examples/bin/fib.elf").toString(),
                "-o", "kvm.guest-lbr=on", "-o", "guest.cpu.model=haswell"), "kvm.guest-lbr = on was refused", "geometry");
    }

    /** Errors found while building the machine, after the config was read, still name the file and line that set the value. */
    @Test
    void errorsFoundAfterReadingTheConfigNameTheLineThatSetTheValue() throws Exception {
        String fib = CliRunner.home().resolve("examples/bin/fib.elf").toString().replace("\\", "/");
        String[][] cases = {
            {"kvm.guest-lbr = on\nguest.cpu.model = haswell", ":2: kvm.guest-lbr = on was refused"},
            {"guest.stack-pointer = 0x10000000", ":2: guest.stack-pointer = 0x10000000 lies outside guest memory"},
            {"guest.memory = 8M\nguest.program.args = [\"" + "a".repeat(9 << 20) + "\"]", ":3: guest.program.args: the arguments need"},
            {"host.cpu-model = qemu64\nhost.tasks = [{name = t, lbr = task-pinned}]", ":3: host.tasks: host task t wants an LBR"},
            {"host.cpu-model = qemu64\nhost.lbr-events = [{cpu = 0}]", ":3: host.lbr-events: a host CPU LBR event needs an LBR"},
        };
        for (String[] c : cases) {
            Path conf = dir.resolve("after.conf");
            Files.writeString(conf, "guest.program.path = \"" + fib + "\"\n" + c[0] + "\n");
            CliRunner.Result r = CliRunner.run("run", conf.toString());
            assertCleanError(r, conf + c[1]);
        }
        Path flat = file("one.bin", new byte[] {(byte) 0xF4});
        Path conf = dir.resolve("flat.conf");
        Files.writeString(conf, "guest.program { path = \"" + flat.toString().replace("\\", "/") + "\"\n format = flat\n"
                + "  load-address = 0x7fffffff }\n");
        assertCleanError(CliRunner.run("run", conf.toString()), conf + ":3: guest.program.load-address: ", "does not fit");
        Files.writeString(conf, "guest.program { path = \"" + flat.toString().replace("\\", "/") + "\"\n format = flat\n"
                + "  entry = 0x100010 }\n");
        assertCleanError(CliRunner.run("run", conf.toString()), conf + ":3: guest.program.entry: ", "lies outside the program");
    }

    @Test
    void aFullDiskForTheSerialFileIsOneLineNotAnInternalError() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/full")), "needs /dev/full");
        assertCleanError(CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(),
                "-o", "guest.serial.output=/dev/full"), "cannot write serial output file /dev/full: No space left on device");
    }

    @Test
    void aSixtyFourCpuHostRunsTasksWithoutAnAffinity() throws Exception {
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(), "-o", "host.cpus=64",
                "-o", "host.tasks=[{name = busy}]");
        assertThat(r.status()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("fib(30) = 832040");
    }

    @Test
    void usageErrors() {
        CliRunner.Result r = CliRunner.run("run", "--no-such-option");
        assertThat(r.status()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--no-such-option").contains("lbrvmm run --help");
        assertThat(CliRunner.run("--version").out()).startsWith("lbrvmm ");
        assertThat(CliRunner.run("run", "--help").out()).contains("--kernel").contains("--dump-lbr").contains("-o");
    }

    @Test
    void completionIsABashScriptThatKnowsEveryCommandAndOption() throws Exception {
        CliRunner.Result r = CliRunner.run("completion");
        assertThat(r.status()).isZero();
        assertThat(r.out()).containsPattern("complete .*-F _complete_lbrvmm").contains("record").contains("--call-graph")
                .contains("--dump-lbr");
        Path script = dir.resolve("lbrvmm-completion.bash");
        Files.writeString(script, r.out());
        Process bash = new ProcessBuilder("bash", "-n", script.toString()).redirectErrorStream(true).start();
        String out = new String(bash.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(bash.waitFor()).as("bash -n: %s", out).isZero();
    }

    @Test
    void unknownCommandsAndOptionsAreSaidInPlainWordsWithASuggestion() {
        CliRunner.Result typo = CliRunner.run("recrod", "configs/fib.conf");
        assertThat(typo.status()).isEqualTo(ExitCodes.USAGE);
        assertThat(typo.err()).startsWith("lbrvmm: 'recrod' is not a command of lbrvmm (run, record, bench, qmp, report, completion, help)"
                + "; did you mean 'record' or 'report'?\nTry 'lbrvmm --help' for usage.");
        assertThat(CliRunner.run("foo").err()).startsWith("lbrvmm: 'foo' is not a command of lbrvmm (").doesNotContain("Unmatched");
        assertThat(CliRunner.run("run", "--dump-lbrr", "x").err())
                .startsWith("lbrvmm: 'run' has no option '--dump-lbrr'; did you mean '--dump-lbr'?");
        CliRunner.Result help = CliRunner.run("--help");
        assertThat(help.out()).contains("Start with: lbrvmm record configs/fib.conf && lbrvmm report");
        assertThat(help.out().lines()).as("the footer is not wrapped mid-sentence").allMatch(l -> l.length() <= 80);
    }

    @Test
    void crashingGuestReportsTheTripleFault() throws Exception {
        Path ud = file("ud.bin", HexFormat.of().parseHex("900f0b"));
        CliRunner.Result r = CliRunner.run("run", "--kernel", ud.toString(), "-o", "guest.program.format=flat");
        assertThat(r.status()).isEqualTo(ExitCodes.GUEST_CRASHED);
        assertThat(r.err()).contains("guest crashed").contains("RIP=0x100001").contains("#UD").contains("0f 0b");
    }

    @Test
    void linuxShimReturnsErrnoForUnsupportedCallsAndBadPointers() throws Exception {
        // getpid (39) -> -ENOSYS; exit(rax)
        Path enosys = file("enosys.bin", HexFormat.of().parseHex("b827000000 0f05 89c7 b83c000000 0f05".replace(" ", "")));
        assertThat(CliRunner.run("run", "--kernel", enosys.toString(), "-o", "guest.program.format=flat").status())
                .isEqualTo(-38 & 0xFF);
        assertThat(CapturedLog.messages()).anyMatch(m -> m.contains("Linux system call 39") && m.contains("-ENOSYS"));
        // write(1, 0x7fffffff0, 5) -> -EFAULT; exit(rax)
        Path efault = file("efault.bin", HexFormat.of().parseHex(
                "b801000000bf0100000048bef0ffffff07000000ba050000000f0589c7b83c0000000f05"));
        assertThat(CliRunner.run("run", "--kernel", efault.toString(), "-o", "guest.program.format=flat").status())
                .isEqualTo(-14 & 0xFF);
    }

    @Test
    void secondVcpuStartedAtTheEntryFindsItselfThroughCpuid() throws Exception {
        // vCPU 1 sets a flag at 0x3000 and halts; vCPU 0 spins on it, then leaves through isa-debug-exit (21 -> 43).
        Path smp = file("smp.bin", HexFormat.of().parseHex(
                "b8010000000fa2c1eb1883fb01750cc704250030000001000000f4833c25003000000175f6b815000000e7f4"));
        CliRunner.Result r = CliRunner.run("run", "--kernel", smp.toString(), "-o", "guest.program.format=flat",
                "-o", "guest.vcpus=2", "-o", "guest.ap-start=entry", "-o", "host.time-slice=1000");
        assertThat(r.err()).isEmpty();
        assertThat(r.status()).isEqualTo(43);
    }

    @Test
    void dumpLbrToAnUnwritablePathIsAClearError() throws Exception {
        assertCleanError(CliRunner.run("run", "--kernel", CliRunner.home().resolve("examples/bin/fib.elf").toString(),
                "--dump-lbr", dir.resolve("no/such/dir/out.json").toString()), "--dump-lbr", "cannot write");
    }

    @Test
    void usageErrorsExitTwoAndReportNamesWhatItWasGiven() throws Exception {
        CliRunner.Result bare = CliRunner.run();
        assertThat(bare.status()).isEqualTo(ExitCodes.USAGE);
        assertThat(bare.err()).contains("a command is needed").contains("Usage:");
        CliRunner.Result slice = CliRunner.run("bench", "lbr-policy", "--time-slice", "0");
        assertThat(slice.status()).isEqualTo(ExitCodes.USAGE);
        assertThat(slice.err()).contains("--time-slice must be at least 1");
        CliRunner.Result folder = CliRunner.run("report", dir.toString());
        assertThat(folder.status()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(folder.err()).contains("is a directory");
        if (java.nio.file.Files.exists(Path.of("/dev/zero"))) {
            assertThat(CliRunner.run("report", "/dev/zero").err()).contains("is not a regular file");
        }
    }
}
