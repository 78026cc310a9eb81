package dev.lbrvmm.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Any byte stream into a QMP session: every reply is one JSON object (a return, an error or an
 * event), no command fails with an internal error, no exception reaches the transport, and after
 * the stream the session still answers (once the stream is cut off with the reset byte 0xFF, as
 * clients resynchronise). Seeds: commands, negotiation, malformed and hostile messages
 * (QmpSessionFuzzTestInputs).
 */
class QmpSessionFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CommandRegistry REGISTRY = QmpSessionTest.sessionCommands();

    @FuzzTest(maxDuration = "10m")
    void byteStream(byte[] data) throws Exception {
        List<String> wire = new ArrayList<>();
        boolean[] closed = {false};
        QmpMonitor m = new QmpMonitor(REGISTRY, new QmpMonitor.Version(7, 2, 0, ""), Runnable::run);
        QmpSession s = m.open(new QmpSession.Transport() {
            @Override
            public void send(String json) {
                wire.add(json);
            }

            @Override
            public void close() {
                closed[0] = true;
            }
        });
        s.receive(data, 0, data.length);
        byte[] after = "\u00ff{\"execute\": \"qmp_capabilities\"}{\"execute\": \"query-status\", \"id\": \"probe\"}"
                .getBytes(StandardCharsets.ISO_8859_1);
        s.receive(after, 0, after.length);
        for (String reply : wire) {
            assertThat(JSON.readTree(reply).isObject()).as(reply).isTrue();
            assertThat(reply).doesNotContain("internal error");
            assertThat(reply.length()).as("replies stay small").isLessThan(2 * QmpError.MAX_DESC + 64 * 1024);
        }
        if (!closed[0]) {
            assertThat(wire.get(wire.size() - 1)).as("still answering").contains("\"probe\"");
        }
    }
}
