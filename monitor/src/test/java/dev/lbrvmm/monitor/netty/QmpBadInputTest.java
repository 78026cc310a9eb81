package dev.lbrvmm.monitor.netty;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.lbrvmm.monitor.CommandRegistry;
import dev.lbrvmm.monitor.QmpCommand;
import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.ReplyType;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input over a real TCP connection, table-driven: after each case the same connection still
 * answers query-status (QEMU never closes on bad input), and so does a new one.
 */
class QmpBadInputTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private QmpServer server;
    private InetSocketAddress at;

    record Case(String name, byte[] input, String expectedFirstError) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() {
        byte[] garbage = new byte[4096];
        new Random(42).nextBytes(garbage);
        for (int i = 0; i < garbage.length; i++) {
            if (garbage[i] == '{' || garbage[i] == '[' || garbage[i] == '"' || garbage[i] == '\'') {
                garbage[i] = 0x01; // keep the garbage from opening a never-ending structure
            }
        }
        return List.of(
                new Case("truncated then reset byte", "{\"execute\": \"query-st\u0001".getBytes(StandardCharsets.ISO_8859_1),
                        "JSON parse error, stray"),
                new Case("huge string (4 MiB) as id", ("{\"execute\": \"query-status\", \"id\": \"" + "x".repeat(4 << 20) + "\"}")
                        .getBytes(StandardCharsets.US_ASCII), null),
                new Case("deep nesting over the limit", ("[".repeat(1100) + "]".repeat(1100)).getBytes(StandardCharsets.US_ASCII),
                        "JSON nesting depth limit exceeded"),
                new Case("binary garbage", garbage, "GenericError"), // a stray digit is a number: "must be a JSON object"
                new Case("top-level scalars", "42 \"s\" true null ".getBytes(StandardCharsets.US_ASCII), "QMP input must be a JSON object"),
                new Case("unknown members and bad types", "{\"execute\": \"query-status\", \"arguments\": [], \"id\": 1}"
                        .getBytes(StandardCharsets.US_ASCII), "QMP input member 'arguments' must be an object"),
                new Case("invalid UTF-8", new byte[] {'{', '"', 'e', '"', ':', '"', (byte) 0xC3, 'x', '"', '}'}, "invalid UTF-8"));
    }

    @BeforeEach
    void start() throws Exception {
        CommandRegistry r = new CommandRegistry().register(QmpCommand.of("query-status", List.of(), ReplyType.ANY,
                (a, s) -> JsonNodeFactory.instance.objectNode().put("status", "running")));
        server = new QmpServer(new QmpMonitor(r, new QmpMonitor.Version(7, 2, 0, ""), pool));
        at = server.listenTcp("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        server.close();
        pool.shutdownNow();
    }

    private String queryStatus(OutputStream out, BufferedReader in) throws Exception {
        out.write("\u0001{\"execute\": \"query-status\", \"id\": \"probe\"}".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        for (;;) {
            String line = in.readLine();
            if (line == null || line.contains("\"probe\"")) {
                return line;
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theSameConnectionStillAnswers(Case c) throws Exception {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1), 1 << 16);
            OutputStream out = s.getOutputStream();
            in.readLine();
            out.write("{\"execute\":\"qmp_capabilities\"}".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("{\"return\": {}}");
            out.write(c.input());
            out.flush();
            if (c.expectedFirstError() != null) {
                String first = in.readLine();
                assertThat(first).contains("\"error\"").contains(c.expectedFirstError());
            }
            assertThat(queryStatus(out, in)).contains("running");
        }
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).startsWith("{\"QMP\"");
        }
    }

    @ParameterizedTest(name = "half-open: {0}")
    @MethodSource("cases")
    void aClientThatLeavesMidMessageDoesNotHurtOthers(Case c) throws Exception {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.getOutputStream().write(c.input(), 0, Math.min(c.input().length, 1000));
            s.shutdownOutput(); // half-open, then gone
        }
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            in.readLine();
            s.getOutputStream().write("{\"execute\":\"qmp_capabilities\"}".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("{\"return\": {}}");
            assertThat(queryStatus(s.getOutputStream(), in)).contains("running");
        }
    }
}
