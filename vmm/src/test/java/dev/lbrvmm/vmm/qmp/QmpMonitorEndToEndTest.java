package dev.lbrvmm.vmm.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lbrvmm.vmm.cli.Main;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import dev.lbrvmm.vmm.CapturedLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** lbrvmm run with a QMP monitor, driven over a real Unix socket. */
@ExtendWith(CapturedLog.class)
class QmpMonitorEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A minimal QMP client: sends commands, skips (and keeps) events while waiting for replies. */
    static final class Client implements AutoCloseable {
        final SocketChannel ch;
        final BufferedReader in;
        final List<JsonNode> events = new ArrayList<>();

        Client(Path sock) throws Exception {
            SocketChannel c = null;
            for (int i = 0; i < 200 && c == null; i++) {
                try {
                    if (Files.exists(sock)) {
                        c = SocketChannel.open(StandardProtocolFamily.UNIX);
                        c.connect(UnixDomainSocketAddress.of(sock));
                    }
                } catch (IOException e) {
                    c = null;
                }
                if (c == null) {
                    Thread.sleep(25);
                }
            }
            assertThat(c).as("monitor socket " + sock).isNotNull();
            ch = c;
            in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            assertThat(JSON.readTree(in.readLine()).has("QMP")).isTrue();
            assertThat(cmd("qmp_capabilities").has("return")).isTrue();
        }

        JsonNode cmd(String name) throws IOException {
            return cmd(name, null, null);
        }

        JsonNode cmd(String name, String args, Object id) throws IOException {
            String msg = "{\"execute\": \"" + name + "\"" + (args == null ? "" : ", \"arguments\": " + args)
                    + (id == null ? "" : ", \"id\": " + JSON.writeValueAsString(id)) + "}";
            ch.write(ByteBuffer.wrap(msg.getBytes(StandardCharsets.UTF_8)));
            return reply();
        }

        JsonNode reply() throws IOException {
            for (;;) {
                String line = in.readLine();
                if (line == null) {
                    return null;
                }
                JsonNode n = JSON.readTree(line);
                if (n.has("event")) {
                    events.add(n);
                } else {
                    return n;
                }
            }
        }

        JsonNode nextEvent() throws IOException {
            if (!events.isEmpty()) {
                return events.remove(0);
            }
            String line = in.readLine();
            return line == null ? null : JSON.readTree(line);
        }

        /** Run-state events seen so far (LBR_* events, which the guest's LBR use causes at any time, left out). */
        List<String> eventNames() {
            return events.stream().map(e -> e.get("event").asText()).filter(n -> !n.startsWith("LBR_")).toList();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    static Future<Integer> launch(String... args) {
        return CompletableFuture.supplyAsync(() -> Main.execute(args, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream())));
    }

    static String home(String rel) {
        return Path.of(System.getProperty("lbrvmm.home", "..")).resolve(rel).toString();
    }

    @Test
    void runStatesEventsAndLbrCommands(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("qmp.sock");
        Future<Integer> vm = launch("run", home("configs/fib.conf"), "-S", "--qmp", "unix:" + sock + ",server=on,wait=off",
                "-o", "kvm.guest-lbr=on", "-o", "guest.msrs.IA32_DEBUGCTL=1");
        try (Client c = new Client(sock)) {
            assertThat(c.cmd("query-status").get("return").get("status").asText()).isEqualTo("prelaunch");
            assertThat(c.cmd("stop").get("return").isEmpty()).isTrue();
            assertThat(c.events).as("stop in prelaunch: no event").isEmpty();
            assertThat(c.cmd("query-name").get("return").get("name").asText()).isEqualTo("fib");
            assertThat(c.cmd("query-kvm").get("return").get("enabled").asBoolean()).isTrue();
            assertThat(c.cmd("query-cpus-fast").get("return").get(0).get("cpu-index").asInt()).isZero();
            JsonNode bad = c.cmd("query-lbr", "{\"cpu-index\": 7}", 1);
            assertThat(bad.get("error").get("desc").asText()).isEqualTo("Parameter 'cpu-index' expects a CPU number");
            assertThat(c.cmd("human-monitor-command", "{\"command-line\": \"info status\"}", null).get("return").asText())
                    .isEqualTo("VM status: prelaunch\r\n");
            assertThat(c.cmd("human-monitor-command", "{\"command-line\": \"frobnicate\"}", null).get("return").asText())
                    .isEqualTo("unknown command: 'frobnicate'\r\n");

            JsonNode r = c.cmd("cont", null, "c1");
            assertThat(r.get("id").asText()).isEqualTo("c1");
            assertThat(c.eventNames()).containsExactly("RESUME");
            c.events.clear();
            // Let the guest run a little before it is stopped: a stop queued right behind cont may be
            // served before the first time slice, and then there is no branch to show.
            for (long deadline = System.nanoTime() + 5_000_000_000L; System.nanoTime() < deadline; Thread.sleep(5)) {
                if (c.cmd("query-lbr-stats").get("return").get("instructions").asLong() > 0) {
                    break;
                }
            }
            c.events.clear();
            r = c.cmd("stop");
            assertThat(c.eventNames()).as("STOP before stop's reply").containsExactly("STOP");
            c.events.clear();
            assertThat(c.cmd("query-status").get("return").get("status").asText()).isEqualTo("paused");
            JsonNode lbr = c.cmd("query-lbr", "{\"cpu-index\": 0}", null).get("return");
            assertThat(lbr.get("depth").asInt()).isEqualTo(32);
            assertThat(lbr.get("debugctl").asLong()).isEqualTo(1);
            assertThat(c.cmd("human-monitor-command", "{\"command-line\": \"info lbr\"}", null).get("return").asText())
                    .as("symbols from the ELF").contains("fib+0x");
            JsonNode pmu = c.cmd("query-pmu", "{\"cpu-index\": 0}", null).get("return");
            assertThat(pmu.get("version").asInt()).as("KVM caps the guest PMU version at 2").isEqualTo(2);
            assertThat(pmu.get("counters")).hasSize(4);
            assertThat(pmu.get("fixed-counters")).hasSize(3);
            JsonNode stats = c.cmd("query-lbr-stats").get("return");
            assertThat(stats.get("policy").asText()).isEqualTo("lazy");
            assertThat(stats.get("instructions").asLong()).isPositive();

            c.cmd("system_reset");
            assertThat(c.eventNames()).containsExactly("RESET");
            assertThat(c.events.stream().filter(e -> e.get("event").asText().equals("RESET")).findFirst().orElseThrow()
                    .get("data").get("reason").asText()).isEqualTo("host-qmp-system-reset");
            c.events.clear();
            assertThat(c.cmd("query-status").get("return").get("status").asText()).isEqualTo("prelaunch");
            c.cmd("cont");
            JsonNode shutdown = null;
            for (int i = 0; i < 10 && shutdown == null; i++) {
                JsonNode e = c.nextEvent();
                if (e != null && e.get("event").asText().equals("SHUTDOWN")) {
                    shutdown = e;
                }
            }
            assertThat(shutdown).isNotNull();
            assertThat(shutdown.get("data").get("guest").asBoolean()).isTrue();
        }
        assertThat(vm.get(30, TimeUnit.SECONDS)).as("the guest's own status after the reset and a full run").isEqualTo(0);
    }

    @Test
    void quitSendsShutdownThenReplyThenClosesAndExitsZero(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("q.sock");
        Future<Integer> vm = launch("run", home("configs/fib.conf"), "-S", "--qmp", "unix:" + sock);
        try (Client c = new Client(sock)) {
            JsonNode r = c.cmd("quit", null, 9);
            assertThat(c.eventNames()).containsExactly("SHUTDOWN");
            assertThat(c.events.get(0).get("data").get("reason").asText()).isEqualTo("host-qmp-quit");
            assertThat(r.get("id").asInt()).isEqualTo(9);
            assertThat(c.in.readLine()).as("EOF").isNull();
        }
        assertThat(vm.get(10, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void hostReclaimFromTheMonitor(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("r.sock");
        Path spin = dir.resolve("spin.bin");
        Files.write(spin, HexFormat.of().parseHex("ebfe")); // jmp .
        Future<Integer> vm = launch("run", "--kernel", spin.toString(), "-o", "guest.program.format=flat", "-o", "kvm.guest-lbr=on",
                "-o", "kvm.lbr-policy=upstream", "-o", "guest.msrs.IA32_DEBUGCTL=1", "-o", "host.time-slice=1000", "-S",
                "--qmp", "unix:" + sock);
        try (Client c = new Client(sock)) {
            c.cmd("cont");
            Thread.sleep(100);
            c.cmd("stop");
            assertThat(c.cmd("query-lbr").get("return").get("host-event").asText()).isEqualTo("active");
            JsonNode add = c.cmd("x-host-lbr-event-add", "{\"cpu\": 0, \"pinned\": true}", null).get("return");
            assertThat(add.get("state").asText()).isEqualTo("active");
            assertThat(c.cmd("query-lbr").get("return").get("host-event").asText()).as("the host wins").isEqualTo("error");
            c.cmd("cont");
            Thread.sleep(100);
            c.cmd("stop");
            assertThat(c.cmd("query-lbr").get("return").get("passthrough").asBoolean()).isFalse();
            assertThat(c.cmd("query-lbr-stats").get("return").get("warnings").asLong()).isPositive();
            assertThat(c.cmd("x-host-lbr-event-del", "{\"id\": " + add.get("id").asInt() + "}", null).has("return")).isTrue();
            assertThat(c.cmd("x-host-lbr-event-del", "{\"id\": 999}", null).get("error").get("desc").asText()).contains("999");
            c.cmd("quit");
        }
        assertThat(vm.get(10, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void qomPropertiesAndLbrEvents(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("o.sock");
        Future<Integer> vm = launch("run", "--kernel", home("examples/bin/pmu_lbr.elf"), "-o", "kvm.guest-lbr=on",
                "-o", "kvm.lbr-policy=upstream", "-S", "--qmp", "unix:" + sock);
        try (Client c = new Client(sock)) {
            JsonNode cpus = c.cmd("query-cpus-fast").get("return");
            String cpu = cpus.get(0).get("qom-path").asText();
            assertThat(c.cmd("qom-get", "{\"path\": \"" + cpu + "\", \"property\": \"pmu\"}", null).get("return").asBoolean()).isTrue();
            assertThat(c.cmd("qom-get", "{\"path\": \"" + cpu + "\", \"property\": \"lbr-fmt\"}", null).get("return").asInt()).isEqualTo(5);
            assertThat(c.cmd("qom-get", "{\"path\": \"device[0]\", \"property\": \"model\"}", null).get("return").asText())
                    .isEqualTo("skylake-client");
            assertThat(c.cmd("qom-get", "{\"path\": \"machine\", \"property\": \"lbr-policy\"}", null).get("return").asText())
                    .isEqualTo("upstream");
            assertThat(c.cmd("qom-list", "{\"path\": \"/\"}", null).get("return").toString()).contains("child<lbrvmm-machine>");
            JsonNode notFound = c.cmd("qom-get", "{\"path\": \"/nope\", \"property\": \"x\"}", null).get("error");
            assertThat(notFound.get("class").asText()).isEqualTo("DeviceNotFound");
            assertThat(notFound.get("desc").asText()).isEqualTo("Device '/nope' not found");
            assertThat(c.cmd("qom-get", "{\"path\": \"machine\", \"property\": \"nope\"}", null).get("error").get("desc").asText())
                    .isEqualTo("Property 'lbrvmm-machine.nope' not found");
            assertThat(c.cmd("qom-set", "{\"path\": \"" + cpu + "\", \"property\": \"pmu\", \"value\": false}", null)
                    .get("error").get("desc").asText()).contains("after it was realized");
            c.cmd("cont");
            JsonNode passthrough = null;
            for (int i = 0; i < 20 && passthrough == null; i++) {
                JsonNode e = c.nextEvent();
                if (e != null && e.get("event").asText().equals("LBR_PASSTHROUGH")) {
                    passthrough = e;
                }
            }
            assertThat(passthrough).isNotNull();
            assertThat(passthrough.get("data").get("cpu-index").asInt()).isZero();
        }
        assertThat(vm.get(20, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void qmpScriptCommandDrivesTheVmm(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("s.sock");
        Future<Integer> vm = launch("run", "--kernel", home("examples/bin/forever.elf"), "-o", "kvm.guest-lbr=on",
                "-o", "guest.msrs.IA32_DEBUGCTL=1", "-S", "--qmp", "unix:" + sock);
        Path script = dir.resolve("demo.qmp");
        Files.writeString(script, "# demo\nquery-status\ncont\nwait RESUME 5\nsleep 0.05\nstop\n"
                + "human-monitor-command command-line=\"info lbr\"\nquit\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.execute(new String[] {"qmp", "unix:" + sock, "--script", script.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(status).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"prelaunch\"").contains("\"event\":\"RESUME\"")
                .contains("CPU #0 LBR: format 5, depth 32").contains("step");
        assertThat(vm.get(10, TimeUnit.SECONDS)).isZero();
        Files.writeString(script, "query-status\nno-such-command\nquery-status\n");
        Future<Integer> vm2 = launch("run", "--kernel", home("examples/bin/forever.elf"), "-S", "--qmp", "unix:" + sock);
        ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        int failed = Main.execute(new String[] {"qmp", "unix:" + sock, "--script", script.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err2, true, StandardCharsets.UTF_8));
        assertThat(failed).isEqualTo(1);
        assertThat(err2.toString(StandardCharsets.UTF_8)).contains("demo.qmp:2: CommandNotFound");
        try (Client c = new Client(sock)) {
            c.cmd("quit");
        }
        assertThat(vm2.get(10, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void sixtyFourClientsStopContAndQueryConcurrently(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("c.sock");
        Path spin = dir.resolve("spin.bin");
        Files.write(spin, HexFormat.of().parseHex("ebfe"));
        Future<Integer> vm = launch("run", "--kernel", spin.toString(), "-o", "guest.program.format=flat", "--qmp", "unix:" + sock);
        ExecutorService pool = Executors.newFixedThreadPool(64);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int k = 0; k < 64; k++) {
                int client = k;
                results.add(pool.submit(() -> {
                    try (Client c = new Client(sock)) {
                        for (int i = 0; i < 20; i++) {
                            String cmd = switch (i % 3) {
                                case 0 -> "stop";
                                case 1 -> "cont";
                                default -> "query-status";
                            };
                            String id = client + "-" + i;
                            JsonNode r = c.cmd(cmd, null, id);
                            assertThat(r.get("id").asText()).isEqualTo(id);
                            assertThat(r.has("return")).isTrue();
                        }
                        return c.eventNames();
                    }
                }));
            }
            for (Future<List<String>> f : results) {
                List<String> events = f.get(60, TimeUnit.SECONDS);
                for (int i = 1; i < events.size(); i++) {
                    assertThat(events.get(i)).as("STOP and RESUME alternate").isNotEqualTo(events.get(i - 1));
                }
            }
            try (Client c = new Client(sock)) {
                assertThat(c.cmd("query-status").has("return")).isTrue();
                c.cmd("quit");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(vm.get(10, TimeUnit.SECONDS)).isZero();
    }
}
