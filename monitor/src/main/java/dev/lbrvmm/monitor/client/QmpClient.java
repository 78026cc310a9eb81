package dev.lbrvmm.monitor.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.netty.QmpAddress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A QMP client for TCP and Unix sockets: reads the greeting, negotiates capabilities, sends
 * commands and matches replies (a QMP server answers a connection's requests in order), and
 * delivers events asynchronously to listeners while also keeping them for {@link #waitForEvent}.
 */
public final class QmpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final BufferedReader in;
    private final JsonNode greeting;
    private final ArrayDeque<CompletableFuture<JsonNode>> pending = new ArrayDeque<>();
    private final List<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile IOException failure;

    private QmpClient(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        String first = in.readLine();
        if (first == null) {
            throw new IOException("the monitor closed the connection before its greeting");
        }
        greeting = JSON.readTree(first);
        if (!greeting.has("QMP")) {
            throw new IOException("not a QMP monitor: the first line was " + first);
        }
        reader = new Thread(this::readLoop, "qmp-client-reader");
        reader.setDaemon(true);
        reader.start();
        JsonNode r = execute("qmp_capabilities", null).join();
        if (r.has("error")) {
            throw new IOException("capabilities negotiation failed: " + r.get("error"));
        }
    }

    /** Connects, retrying until {@code timeout} (the VMM may still be starting). */
    public static QmpClient connect(QmpAddress address, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        do {
            SocketChannel ch = null;
            try {
                if (address.kind() == QmpAddress.Kind.UNIX) {
                    ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(address.path()));
                } else {
                    ch = SocketChannel.open(new InetSocketAddress(address.host(), address.port()));
                }
                return new QmpClient(ch);
            } catch (IOException e) {
                last = e;
                if (ch != null) {
                    ch.close();
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while connecting", ie);
                }
            }
        } while (System.nanoTime() < deadline);
        throw new IOException("cannot connect to " + address + ": " + (last == null ? "timed out" : last.getMessage()), last);
    }

    public JsonNode greeting() {
        return greeting;
    }

    public void onEvent(Consumer<JsonNode> listener) {
        listeners.add(listener);
    }

    private void readLoop() {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode n = JSON.readTree(line);
                if (n.has("event")) {
                    events.add(n);
                    for (Consumer<JsonNode> l : listeners) {
                        l.accept(n);
                    }
                } else {
                    CompletableFuture<JsonNode> f;
                    synchronized (pending) {
                        f = pending.poll();
                    }
                    if (f != null) {
                        f.complete(n);
                    }
                }
            }
            failure = new IOException("the monitor closed the connection");
        } catch (IOException e) {
            failure = e;
        }
        synchronized (pending) {
            for (CompletableFuture<JsonNode> f : pending) {
                f.completeExceptionally(failure);
            }
            pending.clear();
        }
    }

    /** Sends a command; the future completes with the whole reply ({"return": ...} or {"error": ...}). */
    public CompletableFuture<JsonNode> execute(String command, ObjectNode arguments) {
        ObjectNode msg = JSON.createObjectNode();
        msg.put("execute", command);
        if (arguments != null && !arguments.isEmpty()) {
            msg.set("arguments", arguments);
        }
        return send(msg.toString());
    }

    /** Sends raw JSON text as it is (one message). */
    public CompletableFuture<JsonNode> send(String json) {
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        synchronized (pending) {
            if (failure != null) {
                f.completeExceptionally(failure);
                return f;
            }
            pending.add(f);
            try {
                ByteBuffer b = ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            } catch (IOException e) {
                pending.remove(f);
                f.completeExceptionally(e);
            }
        }
        return f;
    }

    /** Runs a command and returns its "return" value; an error reply becomes a {@link QmpClientException}. */
    public JsonNode call(String command, ObjectNode arguments) throws QmpClientException, IOException {
        JsonNode r;
        try {
            r = execute(command, arguments).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        if (r.has("error")) {
            throw new QmpClientException(r.get("error").path("class").asText(), r.get("error").path("desc").asText());
        }
        return r.get("return");
    }

    /** The next event named {@code name} (earlier other events are skipped), or null after the timeout. */
    public JsonNode waitForEvent(String name, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            JsonNode e = events.poll(left, TimeUnit.NANOSECONDS);
            if (e == null) {
                return null;
            }
            if (e.get("event").asText().equals(name)) {
                return e;
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
