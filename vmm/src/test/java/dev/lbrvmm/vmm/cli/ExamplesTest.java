package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every example guest runs through the CLI entry point to its expected exit status and serial
 * output. The Linux-ABI examples are also run natively (on an x86-64 Linux host) and must agree.
 */
class ExamplesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "loop       | 0   | loop: sum = 124362030139008",
        "fib        | 0   | fib(30) = 832040",
        "sort       | 0   | sort: checksum = 90044065966979",
        "dispatch   | 0   | dispatch: acc = 13238414717373363695",
        "callchain  | 0   | callchain: result = 11140755648",
        "primes     | 0   | primes: below 200000: 17984, crc32 0x13abea3d",
        "x87        | 0   | pi (Leibniz, 200000 terms): 3.141588",
    })
    void linuxAbiExampleRunsLikeNatively(String name, int status, String line) throws Exception {
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/" + name + ".conf").toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith(line + "\n");
        assertThat(r.status()).isEqualTo(status);

        boolean nativeHost = System.getProperty("os.name").equals("Linux")
                && (System.getProperty("os.arch").equals("amd64") || System.getProperty("os.arch").equals("x86_64"));
        assumeTrue(nativeHost, "not an x86-64 Linux host: native comparison skipped");
        Path elf = CliRunner.home().resolve("examples/bin/" + name + ".elf");
        Process p = new ProcessBuilder(elf.toString()).start();
        String nativeOut = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(r.out()).isEqualTo(nativeOut);
        assertThat(r.status()).isEqualTo(p.exitValue());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {"serial-idt | 43"})
    void bareMetalExampleUsesSerialIdtAndDebugExit(String name, int status) {
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/" + name + ".conf").toString());
        assertThat(r.out()).isEqualTo("serial-idt: hello from COM1\n"
                + "serial-idt: caught #UD, skipping it\n"
                + "serial-idt: back from the handler\n");
        assertThat(r.status()).isEqualTo(status);
    }
}
