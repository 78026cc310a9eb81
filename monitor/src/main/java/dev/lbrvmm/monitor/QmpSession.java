package dev.lbrvmm.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.json.JsonStreamer;
import dev.lbrvmm.monitor.json.QmpJsonWriter;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QMP connection, independent of the transport: greeting, capabilities negotiation, the
 * envelope and argument checks in QEMU 7.2's order (qmp_dispatch() and the QAPI input visitor), dispatch, replies and
 * events. Input is parsed as it arrives; in-band requests (and parse errors, which are answered in
 * order with them) wait in a queue of at most {@link #MAX_QUEUED} and run on the monitor's
 * {@link RequestDispatcher}, never on the I/O thread. When the queue is full the session takes no more
 * bytes: {@link #receive} returns how many it took and the transport stops reading until
 * {@link Transport#resumeReading()}, as QEMU suspends a monitor with QMP_REQ_QUEUE_LEN_MAX requests
 * queued (back-pressure, not buffering).
 */
public final class QmpSession {
    private static final Logger LOG = LoggerFactory.getLogger(QmpSession.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** In-band requests a session holds before it stops taking input (QEMU's QMP_REQ_QUEUE_LEN_MAX). */
    public static final int MAX_QUEUED = 8;

    /** Where replies, events and the greeting go (one JSON text per call; the transport adds CRLF). */
    public interface Transport {
        void send(String json);

        void close();

        /** Whether the peer is taking output; while it is not, no request of this session runs. */
        default boolean writable() {
            return true;
        }

        /** The queue has room again: feed the bytes {@link #receive} did not take, then read on. Any thread. */
        default void resumeReading() {
        }
    }

    private final QmpMonitor monitor;
    private final Transport transport;
    private final JsonStreamer streamer;
    private final RequestDispatcher dispatcher;
    /** Requests (and parse-error replies) waiting for their turn, oldest first; guarded by itself. */
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private volatile int queued;
    /** receive() refused bytes because the queue was full; guarded by {@link #queue}. */
    private boolean readingPaused;
    /** In the dispatcher's line (guarded by the dispatcher). */
    boolean inLine;
    private volatile boolean negotiated;
    private volatile boolean oob;
    private volatile boolean closing;
    private boolean closeAfterReply;
    private Runnable afterReply;

    QmpSession(QmpMonitor monitor, Transport transport, RequestDispatcher dispatcher) {
        this.monitor = monitor;
        this.transport = transport;
        this.dispatcher = dispatcher;
        this.streamer = new JsonStreamer(new JsonStreamer.Listener() {
            @Override
            public void value(JsonNode v) {
                if (oob && v.isObject() && v.has("exec-oob")) {
                    dispatch(v); // out of band: now, on the I/O thread, ahead of queued in-band requests
                } else {
                    enqueue(() -> dispatch(v));
                }
            }

            @Override
            public void error(String message) {
                enqueue(() -> send(errorReply(null, QmpError.generic(message))));
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

    /**
     * Bytes from the client, in any chunking. Called on the transport's thread. Returns how many were
     * taken: fewer than {@code len} when {@link #MAX_QUEUED} requests are waiting; the transport keeps
     * the rest and offers them again after {@link Transport#resumeReading()}.
     */
    public int receive(byte[] data, int off, int len) {
        if (closing) {
            return len;
        }
        for (int i = 0; i < len; i++) {
            if (queued >= MAX_QUEUED) {
                synchronized (queue) {
                    if (queue.size() >= MAX_QUEUED) {
                        readingPaused = true;
                        return i;
                    }
                }
            }
            streamer.feed(data, off + i, 1);
        }
        return len;
    }

    private void enqueue(Runnable request) {
        synchronized (queue) {
            queue.add(request);
            queued = queue.size();
        }
        dispatcher.ready(this);
    }

    /**
     * Runs the oldest queued request if the transport can take its reply (called by the dispatcher).
     * Returns whether another one could run now.
     */
    boolean runNextRequest() {
        if (closing || !transport.writable()) {
            return false; // writableAgain() puts the session back in line
        }
        Runnable r;
        boolean resume;
        synchronized (queue) {
            r = queue.poll();
            queued = queue.size();
            resume = readingPaused;
            readingPaused = false;
        }
        if (r == null) {
            return false;
        }
        if (resume) {
            transport.resumeReading();
        }
        r.run();
        return queued > 0;
    }

    int queuedRequests() {
        return queued;
    }

    /** The transport drained its output: queued requests may run again. */
    public void writableAgain() {
        if (queued > 0) {
            dispatcher.ready(this);
        }
    }

    /** The connection is gone: nothing more is sent or run, queued requests are dropped. */
    void disconnected() {
        closing = true;
        synchronized (queue) {
            queue.clear();
            queued = 0;
        }
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
                        throw QmpError.generic("QMP input member '" + QmpError.echo(key) + "' must be a string");
                    }
                    if (name != null) {
                        throw QmpError.generic("QMP input member '" + QmpError.echo(key) + "' clashes with '"
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
                default -> throw QmpError.generic("QMP input member '" + QmpError.echo(key) + "' is unexpected");
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
            throw new QmpError(QmpError.ErrorClass.CommandNotFound, "The command " + QmpError.echo(name) + " has not been found");
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
                throw QmpError.generic("Parameter '" + QmpError.echo(n) + "' is unexpected");
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
                    throw QmpError.generic("Parameter '" + n + "' does not accept value '" + QmpError.echo(v.textValue()) + "'");
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
                            throw QmpError.generic("Parameter 'null' does not accept value '" + QmpError.echo(e.textValue()) + "'");
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
