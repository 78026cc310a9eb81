package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's monitor walk-through, step by step as a user runs it: a paused guest with a QMP
 * socket, the reclaim script, then the Python client, which ends the VMM with quit.
 */
@org.junit.jupiter.api.extension.ExtendWith(dev.lbrvmm.vmm.CapturedLog.class)
class MonitorWalkthroughTest {
    @TempDir
    Path dir;

    @Test
    void theReclaimScriptThenThePythonClientAgainstOneGuest() throws Exception {
        Path sock = dir.resolve("lbrvmm.sock");
        Path home = CliRunner.home();
        CompletableFuture<CliRunner.Result> vm = CompletableFuture.supplyAsync(() -> CliRunner.run("run",
                home.resolve("configs/contention.conf").toString(), "--kernel", home.resolve("examples/bin/forever.elf").toString(),
                "-o", "kvm.lbr-policy=upstream", "-S", "--qmp", "unix:" + sock, "--trace", dir.resolve("trace.json").toString()));
        try {
            CliRunner.Result script = CliRunner.run("qmp", sock.toString(), "--script", home.resolve("examples/monitor/reclaim.qmp").toString());
            assertThat(script.status()).as(script.err()).isZero();
            assertThat(script.out()).containsSubsequence("(QMP) query-status", "\"status\" : \"prelaunch\"", "(QMP) cont",
                    "\"event\":\"RESUME\"", "(QMP) x-host-lbr-event-add cpu=0 pinned=true", "(QMP) query-lbr-stats",
                    "(QMP) human-monitor-command command-line=\"info lbr\"");
            assertThat(vm).as("the script leaves the guest to the next step").isNotDone();

            Process py;
            try {
                py = new ProcessBuilder("python3", home.resolve("examples/monitor/lbr_dump.py").toString(), "unix:" + sock)
                        .redirectErrorStream(true).start();
            } catch (java.io.IOException e) {
                assumeTrue(false, "python3 is not installed: the Python step is skipped");
                return;
            }
            String out = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(py.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(py.exitValue()).as(out).isZero();
            assertThat(out).contains("events seen:");
            assertThat(vm.get(30, TimeUnit.SECONDS).status()).as("quit from the Python client ends the VMM").isZero();
            String trace = java.nio.file.Files.readString(dir.resolve("trace.json"));
            assertThat(trace).as("the trace shows the monitor taking the LBR away and KVM losing it")
                    .contains("\"cat\":\"qmp\",\"name\":\"x-host-lbr-event-add\"").contains("\"arguments\":{\"cpu\":0,\"pinned\":true}")
                    .contains("\"name\":\"reclaimed by the host\"");
            assertThat(dev.lbrvmm.vmm.CapturedLog.messages()).as("KVM's warning, as a user sees it on the VMM's stderr")
                    .contains("WARN: vcpu-0: fail to passthrough LBR.");
        } finally {
            if (!vm.isDone()) {
                CliRunner.run("qmp", "unix:" + sock, "--script", writeQuit().toString());
            }
        }
    }

    private Path writeQuit() throws java.io.IOException {
        return java.nio.file.Files.writeString(dir.resolve("quit.qmp"), "quit\n");
    }

    @Test
    void addressesAsQmpShellTakesThem() {
        assertThat(QmpCommandLine.qemuSyntax("/tmp/x.sock")).isEqualTo("unix:/tmp/x.sock");
        assertThat(QmpCommandLine.qemuSyntax("qmp.sock")).isEqualTo("unix:qmp.sock");
        assertThat(QmpCommandLine.qemuSyntax("localhost:4444")).isEqualTo("tcp:localhost:4444");
        assertThat(QmpCommandLine.qemuSyntax("tcp:127.0.0.1:4444")).isEqualTo("tcp:127.0.0.1:4444");
        assertThat(QmpCommandLine.qemuSyntax("unix:/a:1")).isEqualTo("unix:/a:1");
        assertThat(QmpCommandLine.qemuSyntax("./odd:1")).as("a path with a colon stays a path").isEqualTo("unix:./odd:1");
    }
}
