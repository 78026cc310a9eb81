package dev.lbrvmm.monitor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lbrvmm.monitor.CommandRegistry;
import dev.lbrvmm.monitor.Param;
import dev.lbrvmm.monitor.QmpCommand;
import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.ReplyType;
import dev.lbrvmm.monitor.netty.QmpAddress;
import dev.lbrvmm.monitor.netty.QmpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell's line syntax, the client, and the script runner against a real server. */
class QmpShellTest {

    @Test
    void qmpShellSyntax() {
        ShellCommand.Execute e = (ShellCommand.Execute) ShellCommand.parse("query-lbr cpu-index=0 pinned=true name=x mode.a.b=[1,2]");
        assertThat(e.command()).isEqualTo("query-lbr");
        assertThat(e.arguments().toString()).isEqualTo("{\"cpu-index\":0,\"pinned\":true,\"name\":\"x\",\"mode\":{\"a\":{\"b\":[1,2]}}}");
        ShellCommand.Execute q = (ShellCommand.Execute) ShellCommand.parse("human-monitor-command command-line=\"info lbr\"");
        assertThat(q.arguments().get("command-line").asText()).isEqualTo("info lbr");
        assertThat(ShellCommand.parse("  # comment")).isInstanceOf(ShellCommand.Nothing.class);
        assertThat(ShellCommand.parse("{\"execute\": \"stop\"}")).isInstanceOf(ShellCommand.Raw.class);
        assertThat(ShellCommand.parse("wait STOP 1.5")).isEqualTo(new ShellCommand.Wait("STOP", 1.5));
        assertThat(ShellCommand.parse("sleep 0.1")).isEqualTo(new ShellCommand.Sleep(0.1));
        assertThatThrownBy(() -> ShellCommand.parse("stop now")).hasMessageContaining("'now' is not key=value");
        assertThatThrownBy(() -> ShellCommand.parse("{\"execute\": ")).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> ShellCommand.parse("x a=\"open")).hasMessageContaining("unterminated");
    }

    @Test
    void scriptRunsUntilTheFirstErrorAndSeesEvents(@TempDir Path dir) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        CommandRegistry r = new CommandRegistry();
        QmpMonitor[] m = new QmpMonitor[1];
        r.register(QmpCommand.of("stop", List.of(), ReplyType.NONE, (a, s) -> {
            m[0].broadcast("STOP", null);
            return null;
        }));
        r.register(QmpCommand.of("hello", List.of(Param.required("name", Param.Type.STR)), ReplyType.STR,
                (a, s) -> "hello " + a.get("name").asText()));
        m[0] = new QmpMonitor(r, new QmpMonitor.Version(0, 1, 0, "test"), pool);
        Path sock = dir.resolve("s.sock");
        try (QmpServer server = new QmpServer(m[0])) {
            server.listenUnix(sock);
            try (QmpClient c = QmpClient.connect(QmpAddress.parse("unix:" + sock), Duration.ofSeconds(2))) {
                assertThat(c.greeting().get("QMP").get("version").get("package").asText()).isEqualTo("test");
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                QmpShell shell = new QmpShell(c, new PrintStream(out, true, StandardCharsets.UTF_8));
                int status = shell.script(Path.of("t.qmp"), List.of("# demo", "hello name=\"big world\"", "stop", "wait STOP 1",
                        "nosuch-command", "hello name=never"), new PrintStream(err, true, StandardCharsets.UTF_8));
                assertThat(status).isEqualTo(1);
                String session = out.toString(StandardCharsets.UTF_8);
                assertThat(session).contains("hello big world").contains("\"event\":\"STOP\"").doesNotContain("never");
                assertThat(session).as("each command echoed before what it caused; the event before the reply; comments not echoed")
                        .containsSubsequence("(QMP) hello name=\"big world\"", "hello big world", "(QMP) stop", "\"event\":\"STOP\"",
                                "{ }", "(QMP) wait STOP 1", "(QMP) nosuch-command")
                        .doesNotContain("(QMP) # demo");
                assertThat(session.split("\"event\":\"STOP\"", -1)).as("wait does not print the event a second time").hasSize(2);
                assertThat(shell.banner("unix:" + sock)).startsWith("Welcome to the QMP shell. Connected to test (QMP of QEMU 0.1.0) at unix:")
                        .contains("'help' lists the commands");
                ByteArrayOutputStream helpOut = new ByteArrayOutputStream();
                new QmpShell(c, new PrintStream(helpOut, true, StandardCharsets.UTF_8)).run("help");
                assertThat(helpOut.toString(StandardCharsets.UTF_8)).contains("wait EVENT [SECONDS]").contains("hello").contains("stop");
                assertThat(err.toString(StandardCharsets.UTF_8)).contains("t.qmp:5: CommandNotFound: The command nosuch-command has not been found");
                assertThatThrownBy(() -> c.call("hello", null)).isInstanceOf(QmpClientException.class)
                        .hasMessageContaining("Parameter 'name' is missing");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void addressSyntax() {
        assertThat(QmpAddress.parse("tcp::4444")).isEqualTo(new QmpAddress(QmpAddress.Kind.TCP, "127.0.0.1", 4444, null));
        assertThat(QmpAddress.parse("tcp:0.0.0.0:1,server=on,wait=off").host()).isEqualTo("0.0.0.0");
        assertThat(QmpAddress.parse("unix:/tmp/x.sock,server,nowait").path()).isEqualTo(Path.of("/tmp/x.sock"));
        assertThatThrownBy(() -> QmpAddress.parse("tcp:1.2.3.4")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> QmpAddress.parse("tcp::99999")).hasMessageContaining("outside");
        assertThatThrownBy(() -> QmpAddress.parse("unix:/x,server=off")).hasMessageContaining("server=off");
        assertThatThrownBy(() -> QmpAddress.parse("stdio")).hasMessageContaining("not a monitor address");
    }
}
