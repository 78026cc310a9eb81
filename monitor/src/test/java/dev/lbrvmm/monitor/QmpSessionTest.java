package dev.lbrvmm.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The protocol engine without sockets: negotiation, envelope and argument errors, id echo, events. */
class QmpSessionTest {
    final List<String> wire = new ArrayList<>();
    final AtomicBoolean closed = new AtomicBoolean();
    /** query-status, stop (broadcasts STOP), quit, and echo (returns its arguments, one of each QAPI type). */
    static CommandRegistry sessionCommands() {
        return new CommandRegistry()
                .register(QmpCommand.of("query-status", List.of(), ReplyType.of(StatusInfo.class), (a, s) -> new StatusInfo("running")))
                .register(QmpCommand.of("stop", List.of(), ReplyType.NONE, (a, s) -> {
                    s.monitor().broadcast("STOP", null);
                    return null;
                }))
                .register(QmpCommand.of("quit", List.of(), ReplyType.NONE, (a, s) -> {
                    s.closeAfterReply();
                    return null;
                }))
                .register(QmpCommand.of("echo", List.of(Param.required("n", Param.Type.INT), Param.optional("s", Param.Type.STR),
                        Param.enumOf("mode", true, List.of("a", "b")), Param.optional("u", Param.Type.UINT64),
                        Param.optional("f", Param.Type.NUMBER), Param.optional("b", Param.Type.BOOL),
                        Param.optional("o", Param.Type.OBJECT), Param.optional("l", Param.Type.ARRAY)), ReplyType.ANY, (a, s) -> a));
    }

    final CommandRegistry registry = sessionCommands()
            .register(QmpCommand.of("query-version", List.of(), ReplyType.of(QmpMonitor.VersionInfo.class), (a, s) -> s.monitor().versionInfo()))
            .register(QmpCommand.of("x-drifted", List.of(), ReplyType.of(StatusInfo.class), (a, s) -> "not a StatusInfo"));
    final QmpMonitor monitor = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, "lbrvmm"), Runnable::run);
    final QmpSession session = monitor.open(new QmpSession.Transport() {
        @Override
        public void send(String json) {
            wire.add(json);
        }

        @Override
        public void close() {
            closed.set(true);
        }
    });

    String send(String input) {
        int before = wire.size();
        byte[] b = input.getBytes(StandardCharsets.UTF_8);
        session.receive(b, 0, b.length);
        return String.join("\n", wire.subList(before, wire.size()));
    }

    void negotiate() {
        assertThat(send("{\"execute\": \"qmp_capabilities\"}")).isEqualTo("{\"return\": {}}");
    }

    @Test
    void greetingComesFirstAndAlone() {
        assertThat(wire).containsExactly(
                "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"lbrvmm\"}, \"capabilities\": [\"oob\"]}}");
        negotiate();
        assertThat(send("{\"execute\": \"query-version\"}")).as("the greeting (built by hand) and the VersionInfo record agree")
                .isEqualTo("{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"lbrvmm\"}}");
    }

    @Test
    void negotiationGate() {
        assertThat(send("{\"execute\": \"query-status\", \"id\": 1}"))
                .isEqualTo("{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation with 'qmp_capabilities'\"}}");
        assertThat(send("{\"execute\": \"nope\"}")).contains("Expecting capabilities negotiation");
        monitor.broadcast("STOP", null);
        assertThat(wire).noneMatch(l -> l.contains("\"event\""));
        assertThat(send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"bogus\"]}}"))
                .contains("Parameter 'null' does not accept value 'bogus'");
        assertThat(send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}"))
                .contains("Invalid parameter type for 'enable', expected: array");
        assertThat(send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"foo\": 1}}")).contains("Parameter 'foo' is unexpected");
        negotiate();
        assertThat(send("{\"execute\": \"qmp_capabilities\"}"))
                .isEqualTo("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already complete, command ignored\"}}");
        assertThat(send("{\"execute\": \"query-status\", \"id\": \"x\"}")).isEqualTo("{\"return\": {\"status\": \"running\"}, \"id\": \"x\"}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1, 2]                                          | {\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON object\"}}",
        "{\"id\": 5}                                     | {\"id\": 5, \"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input lacks member 'execute'\"}}",
        "{\"execute\": 1, \"id\": 2}                     | {\"id\": 2, \"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'execute' must be a string\"}}",
        "{\"execute\": \"echo\", \"arguments\": null}    | {\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'arguments' must be an object\"}}",
        "{\"execute\": \"echo\", \"control\": {}}        | {\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'control' is unexpected\"}}",
        "{\"exec-oob\": \"echo\"}                        | {\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'exec-oob' is unexpected\"}}",
        "{\"execute\": \"query_status\"}                 | {\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command query_status has not been found\"}}",
        "{\"execute\": \"\"}                             | {\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command  has not been found\"}}",
        "{\"execute\": \"echo\"}                         | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'n' is missing\"}}",
        "{\"execute\": \"echo\", \"arguments\": {\"n\": 1, \"z\": 2}}  | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'z' is unexpected\"}}",
        "{\"execute\": \"echo\", \"arguments\": {\"n\": 1.5}}          | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'n', expected: integer\"}}",
        "{\"execute\": \"echo\", \"arguments\": {\"n\": \"0\"}}        | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'n', expected: integer\"}}",
        "{\"execute\": \"echo\", \"arguments\": {\"n\": 1, \"s\": null}} | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 's', expected: string\"}}",
        "{\"execute\": \"echo\", \"arguments\": {\"n\": 1, \"mode\": \"c\"}} | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'mode' does not accept value 'c'\"}}",
        "{\"execute\": \"echo\", \"arguments\": {\"n\": 1, \"u\": \"5\"}} | {\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'u' expects uint64\"}}",
    })
    void envelopeAndArgumentErrors(String input, String reply) {
        negotiate();
        assertThat(send(input)).isEqualTo(reply);
        assertThat(send("{\"execute\": \"query-status\"}")).as("still answering").contains("running");
    }

    @Test
    void idIsEchoedAsAnyJsonValue() {
        negotiate();
        assertThat(send("{\"execute\": \"query-status\", \"id\": null}")).endsWith("\"id\": null}");
        assertThat(send("{\"execute\": \"query-status\", \"id\": {\"a\": [1, true]}}")).endsWith("\"id\": {\"a\": [1, true]}}");
        assertThat(send("{\"execute\": \"query-status\", \"id\": 18446744073709551615}")).endsWith("\"id\": 18446744073709551615}");
        assertThat(send("{\"execute\": \"nope\", \"id\": 0.1}")).startsWith("{\"id\": 0.10000000000000001, \"error\"");
        assertThat(send("{\"execute\": \"echo\", \"arguments\": {\"n\": -3, \"u\": -1}, \"id\": 7}"))
                .isEqualTo("{\"return\": {\"n\": -3, \"u\": -1}, \"id\": 7}");
    }

    @Test
    void eventsGoToNegotiatedSessionsBeforeTheReplyOfTheCommandThatCausedThem() {
        negotiate();
        String out = send("{\"execute\": \"stop\", \"id\": 1}");
        String[] lines = out.split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).matches("\\{\"timestamp\": \\{\"seconds\": \\d+, \"microseconds\": \\d+}, \"event\": \"STOP\"}");
        assertThat(lines[1]).isEqualTo("{\"return\": {}, \"id\": 1}");
    }

    @Test
    void outOfBandExecutionOnceEnabled() {
        assertThat(send("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}")).isEqualTo("{\"return\": {}}");
        assertThat(send("{\"exec-oob\": \"x-oob-ping\", \"id\": \"o1\"}")).isEqualTo("{\"return\": {}, \"id\": \"o1\"}");
        assertThat(send("{\"exec-oob\": \"query-status\", \"id\": 2}")).contains("The command query-status does not support OOB");
        assertThat(send("{\"execute\": \"query-status\", \"exec-oob\": \"x-oob-ping\"}"))
                .contains("QMP input member 'exec-oob' clashes with 'execute'");
        assertThat(send("{\"execute\": \"x-oob-ping\"}")).as("in band too").isEqualTo("{\"return\": {}}");
    }

    @Test
    void outOfBandOvertakesQueuedInBandRequests() {
        List<Runnable> held = new ArrayList<>();
        List<String> out = new ArrayList<>();
        QmpMonitor m = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, ""), held::add);
        QmpSession s = m.open(new QmpSession.Transport() {
            @Override
            public void send(String json) {
                out.add(json);
            }

            @Override
            public void close() {
            }
        });
        byte[] caps = "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}".getBytes(StandardCharsets.UTF_8);
        s.receive(caps, 0, caps.length);
        while (!held.isEmpty()) {
            held.remove(0).run();
        }
        byte[] both = "{\"execute\": \"query-status\", \"id\": \"in\"}{\"exec-oob\": \"x-oob-ping\", \"id\": \"oob\"}"
                .getBytes(StandardCharsets.UTF_8);
        s.receive(both, 0, both.length);
        assertThat(out.get(out.size() - 1)).as("answered while the in-band request still waits").isEqualTo("{\"return\": {}, \"id\": \"oob\"}");
        held.remove(0).run();
        assertThat(out.get(out.size() - 1)).contains("\"id\": \"in\"");
    }

    /** A client of a monitor whose requests run only when the test says so. */
    static final class HeldClient {
        final List<String> out = new ArrayList<>();
        final AtomicBoolean writable = new AtomicBoolean(true);
        int resumes;
        final QmpSession session;

        HeldClient(QmpMonitor m) {
            session = m.open(new QmpSession.Transport() {
                @Override
                public void send(String json) {
                    out.add(json);
                }

                @Override
                public void close() {
                }

                @Override
                public boolean writable() {
                    return writable.get();
                }

                @Override
                public void resumeReading() {
                    resumes++;
                }
            });
        }

        int receive(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return session.receive(b, 0, b.length);
        }
    }

    private static void runAll(List<Runnable> held) {
        while (!held.isEmpty()) {
            held.remove(0).run();
        }
    }

    @Test
    void aFullQueueStopsTakingBytesUntilARequestHasRun() {
        List<Runnable> held = new ArrayList<>();
        QmpMonitor m = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, ""), held::add);
        HeldClient c = new HeldClient(m);
        c.receive("{\"execute\": \"qmp_capabilities\"}");
        runAll(held);
        String one = "{\"execute\": \"query-status\"}";
        String flood = one.repeat(20) + "@"; // the stray byte is a parse error, also a queued reply
        int taken = c.receive(flood);
        assertThat(taken).as("exactly %d requests taken", QmpSession.MAX_QUEUED).isEqualTo(QmpSession.MAX_QUEUED * one.length());
        assertThat(c.receive(flood.substring(taken))).as("still full").isZero();
        assertThat(c.resumes).isZero();
        runAll(held); // the dispatcher runs the queued requests; the first one frees room and asks for more
        assertThat(c.resumes).isEqualTo(1);
        assertThat(c.out).hasSize(2 + 8);
        int rest = c.receive(flood.substring(taken));
        assertThat(rest).as("the next eight").isEqualTo(QmpSession.MAX_QUEUED * one.length());
        taken += rest;
        while (taken < flood.length()) {
            runAll(held);
            taken += c.receive(flood.substring(taken));
        }
        runAll(held);
        assertThat(c.out).hasSize(2 + 20 + 1).last().asString().contains("stray '@'");
    }

    @Test
    void sessionsTakeTurnsSoAFloodCannotStarveAFreshClient() {
        List<Runnable> held = new ArrayList<>();
        List<String> order = new ArrayList<>();
        CommandRegistry r = new CommandRegistry().register(QmpCommand.of("mark", List.of(Param.required("who", Param.Type.STR)),
                ReplyType.NONE, (a, s) -> {
                    order.add(a.get("who").textValue());
                    return null;
                }));
        QmpMonitor m = new QmpMonitor(r, new QmpMonitor.Version(7, 2, 0, ""), held::add);
        HeldClient flooder = new HeldClient(m);
        HeldClient other = new HeldClient(m);
        HeldClient fresh = new HeldClient(m);
        for (HeldClient c : List.of(flooder, other, fresh)) {
            c.receive("{\"execute\": \"qmp_capabilities\"}");
        }
        runAll(held);
        flooder.receive("{\"execute\": \"mark\", \"arguments\": {\"who\": \"flood\"}}".repeat(8));
        other.receive("{\"execute\": \"mark\", \"arguments\": {\"who\": \"other\"}}".repeat(8));
        fresh.receive("{\"execute\": \"mark\", \"arguments\": {\"who\": \"fresh\"}}");
        runAll(held);
        assertThat(order.subList(0, 5)).containsExactly("flood", "other", "fresh", "flood", "other");
        assertThat(order).hasSize(17);
    }

    @Test
    void aClientThatDoesNotReadHasItsRequestsWaitNotBuffered() {
        List<Runnable> held = new ArrayList<>();
        QmpMonitor m = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, ""), held::add);
        HeldClient c = new HeldClient(m);
        c.receive("{\"execute\": \"qmp_capabilities\"}");
        runAll(held);
        c.writable.set(false);
        String one = "{\"execute\": \"query-status\"}";
        assertThat(c.receive(one.repeat(10))).isEqualTo(8 * one.length());
        runAll(held);
        assertThat(c.out).as("nothing ran while the client's output is full").hasSize(2);
        c.writable.set(true);
        c.session.writableAgain();
        runAll(held);
        assertThat(c.out).hasSize(10);
        assertThat(c.resumes).isEqualTo(1);
    }

    @Test
    void errorRepliesCutWhatTheyEchoSoAHugeArgumentGetsAShortReply() {
        negotiate();
        String huge = "p".repeat(1_000_000);
        String reply = send("{\"execute\": \"" + huge + "\"}");
        assertThat(reply).contains("The command " + "p".repeat(QmpError.MAX_ECHO) + "... (1000000 characters) has not been found")
                .hasSizeLessThan(QmpError.MAX_DESC + 100);
        assertThat(send("{\"execute\": \"echo\", \"arguments\": {\"n\": 1, \"mode\": \"" + huge + "\"}}"))
                .contains("does not accept value 'ppp").contains("(1000000 characters)").hasSizeLessThan(QmpError.MAX_DESC + 100);
        assertThat(send("{\"execute\": \"echo\", \"arguments\": {\"n\": 1, \"" + huge + "\": 1}}"))
                .contains("is unexpected").hasSizeLessThan(QmpError.MAX_DESC + 100);
        assertThat(send("{\"execute\": \"" + huge + "\u0001")).as("a stray token is cut too")
                .contains("JSON parse error, stray '").contains(" characters)").hasSizeLessThan(QmpError.MAX_DESC + 100);
        assertThat(send("{\"execute\": \"query-status\"}")).contains("running");
    }

    @Test
    void execOobWithoutTheCapabilityIsUnexpected() {
        negotiate();
        assertThat(send("{\"exec-oob\": \"x-oob-ping\"}")).contains("QMP input member 'exec-oob' is unexpected");
    }

    @Test
    void quitRepliesThenCloses() {
        negotiate();
        assertThat(send("{\"execute\": \"quit\"}")).isEqualTo("{\"return\": {}}");
        assertThat(closed).isTrue();
        assertThat(send("{\"execute\": \"query-status\"}")).isEmpty();
    }

    @Test
    void builtInIntrospectionComesFromTheTable() {
        negotiate();
        assertThat(send("{\"execute\": \"query-commands\"}")).contains("{\"name\": \"qmp_capabilities\"}").contains("{\"name\": \"echo\"}");
        assertThat(send("{\"execute\": \"query-qmp-schema\"}")).contains("\"name\": \"echo\", \"meta-type\": \"command\"")
                .contains("{\"name\": \"n\", \"type\": \"integer\"}")
                .contains("{\"name\": \"s\", \"type\": \"string\", \"default\": null}")
                .contains("\"name\": \"query-status\", \"meta-type\": \"command\", \"arg-type\": {\"members\": []}, \"ret-type\": \"StatusInfo\"}")
                .contains("\"ret-type\": \"[CommandInfo]\"")
                .contains("\"name\": \"x-oob-ping\", \"meta-type\": \"command\", \"arg-type\": {\"members\": []}, \"ret-type\": \"{}\", \"allow-oob\": true}");
    }

    /** The reply a command declares. */
    record StatusInfo(String status) {}

    @Test
    void aReplyThatDoesNotMatchItsDeclaredTypeIsAnErrorAndTheSessionGoesOn() {
        negotiate();
        assertThat(send("{\"execute\": \"x-drifted\"}")).contains("GenericError")
                .contains("x-drifted declares reply StatusInfo but returned java.lang.String");
        assertThat(send("{\"execute\": \"query-status\"}")).contains("running");
    }

    @Test
    void parseErrorsDoNotEchoIdsAndTheConnectionStaysUsable() {
        negotiate();
        // The stray '@' discards "{"execute":"; each leftover token is then a message of its own:
        // ',' -> expecting value, "id" -> not an object, ':' -> expecting value, 1 -> not an object, '}'.
        String parse = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}";
        String notObject = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON object\"}}";
        assertThat(send("{\"execute\": @, \"id\": 1}").split("\n")).containsExactly(
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '@'\"}}",
                parse, notObject, parse, notObject, parse);
        assertThat(send("{\"execute\": \"query-status\"}")).contains("running");
    }
}
