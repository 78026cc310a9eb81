package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.monitor.client.QmpClient;
import dev.lbrvmm.monitor.netty.QmpAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The monitor bound before the command line is parsed, then handed to the run command. */
class EarlyMonitorTest {
    @Test
    void endpointsBoundEarlyServeTheGreetingAndThenTheMachine(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("early.sock");
        String[] args = {"run", "--kernel", CliRunner.home().resolve("examples/bin/forever.elf").toString(), "-S", "--qmp", "unix:" + sock};
        MonitorSession.bindEarly(args);
        assertThat(Files.exists(sock)).as("bound before parsing").isTrue();
        try (QmpClient early = QmpClient.connect(QmpAddress.parse("unix:" + sock), Duration.ofSeconds(2))) {
            assertThat(early.greeting().get("QMP").get("capabilities").get(0).asText()).isEqualTo("oob");
            CompletableFuture<CliRunner.Result> vm = CompletableFuture.supplyAsync(() -> CliRunner.run(args));
            assertThat(early.call("query-status", null).get("status").asText()).as("answered once the machine exists")
                    .isEqualTo("prelaunch");
            early.execute("quit", null).join();
            assertThat(vm.get(20, TimeUnit.SECONDS).status()).isZero();
        }
    }

    @Test
    void otherCommandLinesBindNothingEarly(@TempDir Path dir) {
        MonitorSession.bindEarly(new String[] {"bench", "--qmp", "unix:" + dir.resolve("x.sock")});
        MonitorSession.bindEarly(new String[] {"run", "--qmp", "bogus:address"});
        assertThat(MonitorSession.takeEarly(List.of())).isNull();
        assertThat(dir.resolve("x.sock")).doesNotExist();
    }
}
