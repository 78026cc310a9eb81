package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The unmodified kvm-unit-tests x86 kernels in ../shared/kut, booted through the CLI entry point
 * as a user would (run --kernel FILE [--append ARGS]), against what they report on real KVM:
 * isa-debug-exit status 1 when every check passed, 3 with failures.
 */
class KvmUnitTestsTest {
    private static Path kut;

    @BeforeAll
    static void findKernels() {
        kut = CliRunner.home().resolveSibling("shared").resolve("kut");
        if (!Files.isDirectory(kut)) {
            kut = CliRunner.home().resolve("../shared/kut").normalize();
        }
        assumeTrue(Files.isRegularFile(kut.resolve("msr.flat")),
                "kvm-unit-tests kernels not found beside the checkout (../shared/kut): skipping the real-kernel tests");
    }

    private static CliRunner.Result run(String kernel, String... extra) {
        String[] args = new String[3 + extra.length];
        args[0] = "run";
        args[1] = "--kernel";
        args[2] = kut.resolve(kernel).toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        return CliRunner.run(args);
    }

    @Test
    void dummySaysHelloAndPasses() {
        CliRunner.Result r = run("dummy.flat");
        assertThat(r.out()).contains("enabling apic").contains("smp: waiting for 0 APs").contains("Dummy Hello World!");
        assertThat(r.status()).as(r.err()).isEqualTo(1);
    }

    @Test
    void msrChecksAllPassAsOnKvm() {
        CliRunner.Result r = run("msr.flat");
        assertThat(r.out()).contains("PASS: MSR_IA32_SYSENTER_CS").contains("PASS: MSR_IA32_CR_PAT").contains("PASS: MSR_FS_BASE")
                .contains("SUMMARY:").doesNotContain("FAIL");
        assertThat(r.status()).as(r.err()).isEqualTo(1);
    }

    @Test
    void msrDebugctlLbrPassesOnlyWithGuestLbr() {
        CliRunner.Result on = run("msr.flat", "--append", "0x1d9 0x1", "-o", "kvm.guest-lbr=on");
        assertThat(on.out()).contains("PASS: MSR:0x1d9");
        assertThat(on.status()).isEqualTo(1);
        CliRunner.Result off = run("msr.flat", "--append", "0x1d9 0x1");
        assertThat(off.out()).as("KVM drops DEBUGCTL.LBR for a guest without LBR").contains("FAIL: MSR:0x1d9");
        assertThat(off.status()).isEqualTo(3);
    }

    @Test
    void tscPassesRdtscp() {
        CliRunner.Result r = run("tsc.flat");
        assertThat(r.out()).contains("PASS: Test RDTSCP 0").contains("PASS: Test RDTSCP 10").contains("PASS: Test RDTSCP 256")
                .contains("SUMMARY: 3 tests").doesNotContain("FAIL");
        assertThat(r.status()).isEqualTo(1);
    }
}
