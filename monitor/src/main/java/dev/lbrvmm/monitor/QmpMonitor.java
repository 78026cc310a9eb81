package dev.lbrvmm.monitor;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.json.QmpJsonWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/**
 * A QMP monitor: the command table, the version it reports, its sessions (every connected
 * client, on any endpoint), and event broadcast to the negotiated ones.
 */
public final class QmpMonitor {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** What query-version and the greeting report. */
    public record Version(int major, int minor, int micro, String pkg) {}

    /** query-version's reply (and the greeting's version member). */
    public record VersionInfo(VersionTriple qemu, @JsonProperty("package") String pkg) {}

    /** QEMU's VersionTriple, in the order QEMU prints it. */
    public record VersionTriple(int micro, int minor, int major) {}

    private final CommandRegistry registry;
    private final Version version;
    private final RequestDispatcher dispatcher;
    private final List<QmpSession> sessions = new CopyOnWriteArrayList<>();
    /** Open until every command is registered (a monitor may serve greetings before that). */
    private final java.util.concurrent.CountDownLatch complete = new java.util.concurrent.CountDownLatch(1);

    /**
     * @param commands where requests run (never a transport's I/O thread): one request at a time,
     *                 each session's in order, the sessions round-robin
     */
    public QmpMonitor(CommandRegistry registry, Version version, Executor commands) {
        this(registry, version, commands, true);
    }

    /**
     * @param complete false when more commands will be registered after clients may have
     *                 connected; call {@link #commandsComplete()} then
     */
    public QmpMonitor(CommandRegistry registry, Version version, Executor commands, boolean complete) {
        this.registry = registry;
        this.version = version;
        this.dispatcher = new RequestDispatcher(commands);
        if (complete) {
            this.complete.countDown();
        }
    }

    /** Every command is registered: requests waiting for an unknown name are answered now. */
    public void commandsComplete() {
        complete.countDown();
    }

    /** The command of that name, waiting for registration to finish if it is not (yet) known. */
    QmpCommand command(String name) {
        QmpCommand c = registry.get(name);
        if (c == null && complete.getCount() > 0) {
            try {
                complete.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            c = registry.get(name);
        }
        return c;
    }

    public CommandRegistry registry() {
        return registry;
    }

    /** {@code {"qemu": {"micro", "minor", "major"}, "package"}} (QEMU's member order). */
    public VersionInfo versionInfo() {
        return new VersionInfo(new VersionTriple(version.micro(), version.minor(), version.major()), version.pkg());
    }

    /** A new connection: the session sends its greeting at once. */
    public QmpSession open(QmpSession.Transport transport) {
        QmpSession s = new QmpSession(this, transport, dispatcher);
        sessions.add(s);
        s.greet();
        return s;
    }

    public void close(QmpSession s) {
        s.disconnected();
        sessions.remove(s);
    }

    public int sessionCount() {
        return sessions.size();
    }

    /** In-band requests received and not yet run, over all sessions (at most {@link QmpSession#MAX_QUEUED} each). */
    public int queuedRequests() {
        int n = 0;
        for (QmpSession s : sessions) {
            n += s.queuedRequests();
        }
        return n;
    }

    /** Sends an event to every negotiated session; {@code data} null means no data member. */
    /**
     * Sends an event to every negotiated session.
     *
     * @param data the event's {@code data} member (a record, serialised like replies, or JSON), or null for none
     */
    public void broadcast(String name, Object data) {
        java.time.Instant now = java.time.Instant.now();
        ObjectNode e = NODES.objectNode();
        ObjectNode ts = e.putObject("timestamp");
        ts.put("seconds", now.getEpochSecond());
        ts.put("microseconds", now.getNano() / 1000);
        e.put("event", name);
        if (data != null) {
            e.set("data", ReplyJson.toJson(data));
        }
        String json = QmpJsonWriter.write(e);
        for (QmpSession s : sessions) {
            s.event(json);
        }
    }
}
