package dev.lbrvmm.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.json.JsonStreamer;
import dev.lbrvmm.monitor.json.QmpJsonWriter;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QMP connection, independent of the transport: greeting, capabilities negotiation, the
 * envelope and argument checks in QEMU 7.2's order (qmp_dispatch() and the QAPI input visitor), dispatch, replies and
 * events. Input is parsed as it arrives; requests run one at a time in order on the session's
 * serial executor, never on the I/O thread.
 */
public final class QmpSession {
    private static final Logger LOG = LoggerFactory.getLogger(QmpSession.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** Where replies, events and the greeting go (one JSON text per call; the transport adds CRLF). */
    public interface Transport {
        void send(String json);

        void close();
    }

    private final QmpMonitor monitor;
    private final Transport transport;
    private final JsonStreamer streamer;
    private final Executor serial;
    private volatile boolean negotiated;
    private volatile boolean oob;
    private volatile boolean closing;
    private boolean closeAfterReply;
    private Runnable afterReply;

    QmpSession(QmpMonitor monitor, Transport transport, Executor commands) {
        this.monitor = monitor;
        this.transport = transport;
        this.serial = new SerialExecutor(commands);
        this.streamer = new JsonStreamer(new JsonStreamer.Listener() {
            @Override
            public void value(JsonNode v) {
                if (oob && v.isObject() && v.has("exec-oob")) {
                    dispatch(v); // out of band: now, on the I/O thread, ahead of queued in-band requests
                } else {
                    serial.execute(() -> dispatch(v));
                }
            }

            @Override
            public void error(String message) {
                serial.execute(() -> send(errorReply(null, QmpError.generic(message))));
            }
        });
    }

    public QmpMonitor monitor() {
        return monitor;
    }

    public boolean negotiated() {
        return negotiated;
    }

    /** Sends the greeting: it must be the first thing on the wire, in a write of its own. */
    void greet() {
        ObjectNode g = NODES.objectNode();
        ObjectNode qmp = g.putObject("QMP");
        QmpMonitor.VersionInfo v = monitor.versionInfo();
        ObjectNode version = qmp.putObject("version"); // by hand: the greeting must not wait for Jackson's databinding to start
        version.putObject("qemu").put("micro", v.qemu().micro()).put("minor", v.qemu().minor()).put("major", v.qemu().major());
        version.put("package", v.pkg());
        qmp.putArray("capabilities").add("oob");
        transport.send(QmpJsonWriter.write(g));
    }

    /** Bytes from the client, in any chunking. Called on the transport's thread. */
    public void receive(byte[] data, int off, int len) {
        if (!closing) {
            streamer.feed(data, off, len);
        }
    }

    /** The connection is gone: nothing more is sent or run. */
    void disconnected() {
        closing = true;
    }

    /** After the reply of the command now running, close the connection (quit). */
    public void closeAfterReply() {
        closeAfterReply = true;
    }

    /** Runs {@code r} once the reply of the command now running has been handed to the transport. */
    public void afterReply(Runnable r) {
        afterReply = r;
    }

    /** Sends an event if this session has completed negotiation. */
    void event(String json) {
        if (negotiated && !closing) {
            transport.send(json);
        }
    }

    private synchronized void send(ObjectNode reply) {
        if (!closing) {
            transport.send(QmpJsonWriter.write(reply));
        }
    }

    private void dispatch(JsonNode msg) {
        if (closing) {
            return;
        }
        ObjectNode reply;
        JsonNode id = msg.isObject() ? msg.get("id") : null;
        try {
            reply = successReply(id, run(msg));
        } catch (QmpError e) {
            reply = errorReply(id, e);
        } catch (RuntimeException e) {
            LOG.warn("QMP command failed unexpectedly", e);
            reply = errorReply(id, QmpError.generic("internal error: " + e));
        }
        send(reply);
        if (closeAfterReply) {
            closing = true;
            transport.close();
        }
        if (afterReply != null) {
            Runnable r = afterReply;
            afterReply = null;
            r.run();
        }
    }

    private JsonNode run(JsonNode msg) throws QmpError {
        if (!msg.isObject()) {
            throw QmpError.generic("QMP input must be a JSON object");
        }
        String name = null;
        boolean outOfBand = false;
        ObjectNode args = NODES.objectNode();
        Iterator<Map.Entry<String, JsonNode>> it = msg.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            switch (key) {
                case "execute", "exec-oob" -> {
                    if (key.equals("exec-oob") && !oob) {
                        throw QmpError.generic("QMP input member 'exec-oob' is unexpected");
                    }
                    if (!e.getValue().isTextual()) {
                        throw QmpError.generic("QMP input member '" + key + "' must be a string");
                    }
                    if (name != null) {
                        throw QmpError.generic("QMP input member '" + key + "' clashes with '"
                                + (key.equals("execute") ? "exec-oob" : "execute") + "'");
                    }
                    name = e.getValue().textValue();
                    outOfBand = key.equals("exec-oob");
                }
                case "arguments" -> {
                    if (!e.getValue().isObject()) {
                        throw QmpError.generic("QMP input member 'arguments' must be an object");
                    }
                    args = (ObjectNode) e.getValue();
                }
                case "id" -> { }
                default -> throw QmpError.generic("QMP input member '" + key + "' is unexpected");
            }
        }
        if (name == null) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        if (!negotiated) {
            if (!name.equals("qmp_capabilities")) {
                throw new QmpError(QmpError.ErrorClass.CommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'");
            }
            QmpCommand caps = monitor.registry().get(name);
            checkArguments(caps, args);
            JsonNode enable = args.get("enable");
            boolean wantOob = enable != null && enable.size() > 0; // "oob" is the only value the schema accepts
            oob = wantOob;
            negotiated = true;
            return NODES.objectNode();
        }
        QmpCommand c = monitor.command(name);
        if (c == null) {
            throw new QmpError(QmpError.ErrorClass.CommandNotFound, "The command " + name + " has not been found");
        }
        if (outOfBand && !c.allowOob()) {
            throw QmpError.generic("The command " + name + " does not support OOB");
        }
        checkArguments(c, args);
        Object value = c.handler().handle(args, this);
        c.returns().check(name, value);
        return ReplyJson.toJson(value);
    }

    /** QAPI input visitor order: missing members, then unexpected ones, then types. */
    static void checkArguments(QmpCommand c, ObjectNode args) throws QmpError {
        for (Param p : c.params()) {
            if (!p.optional() && !args.has(p.name())) {
                throw QmpError.generic("Parameter '" + p.name() + "' is missing");
            }
        }
        Iterator<String> names = args.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (c.params().stream().noneMatch(p -> p.name().equals(n))) {
                throw QmpError.generic("Parameter '" + n + "' is unexpected");
            }
        }
        for (Param p : c.params()) {
            JsonNode v = args.get(p.name());
            if (v != null) {
                checkType(p, v);
            }
        }
    }

    private static void checkType(Param p, JsonNode v) throws QmpError {
        String n = p.name();
        boolean ok = switch (p.type()) {
            case STR -> v.isTextual();
            case INT -> v.isIntegralNumber() && v.canConvertToLong();
            case UINT64 -> {
                if (!v.isIntegralNumber() || (v.bigIntegerValue().signum() >= 0 && v.bigIntegerValue().compareTo(UINT64_MAX) > 0)) {
                    throw QmpError.generic("Parameter '" + n + "' expects uint64");
                }
                yield true;
            }
            case NUMBER -> v.isNumber();
            case BOOL -> v.isBoolean();
            case OBJECT -> v.isObject();
            case ARRAY -> v.isArray();
            case ANY -> true;
            case ENUM -> {
                if (v.isTextual() && !p.values().contains(v.textValue())) {
                    throw QmpError.generic("Parameter '" + n + "' does not accept value '" + v.textValue() + "'");
                }
                yield v.isTextual();
            }
            case ENUM_LIST -> {
                if (v.isArray()) {
                    for (JsonNode e : v) {
                        if (!e.isTextual()) {
                            throw QmpError.generic("Invalid parameter type for '" + n + "[0]', expected: string");
                        }
                        if (!p.values().contains(e.textValue())) {
                            // QEMU 7.2 names list elements 'null' here (qobject_input_type_str's full_name of a list member).
                            throw QmpError.generic("Parameter 'null' does not accept value '" + e.textValue() + "'");
                        }
                    }
                }
                yield v.isArray();
            }
        };
        if (!ok) {
            throw QmpError.generic("Invalid parameter type for '" + n + "', expected: " + p.type().json);
        }
    }

    private static ObjectNode successReply(JsonNode id, JsonNode value) {
        ObjectNode r = NODES.objectNode();
        r.set("return", value == null ? NODES.objectNode() : value);
        if (id != null) {
            r.set("id", id);
        }
        return r;
    }

    private static ObjectNode errorReply(JsonNode id, QmpError e) {
        ObjectNode r = NODES.objectNode();
        if (id != null) {
            r.set("id", id);
        }
        ObjectNode err = r.putObject("error");
        err.put("class", e.errorClass().name());
        err.put("desc", e.desc());
        return r;
    }
}
