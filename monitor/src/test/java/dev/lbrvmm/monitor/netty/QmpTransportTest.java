package dev.lbrvmm.monitor.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.lbrvmm.monitor.CommandRegistry;
import dev.lbrvmm.monitor.QmpCommand;
import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.ReplyType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Netty side: the handler on an EmbeddedChannel, and real TCP and Unix-socket endpoints. */
class QmpTransportTest {
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final CommandRegistry registry = new CommandRegistry().register(QmpCommand.of("query-status", List.of(), ReplyType.ANY,
            (a, s) -> JsonNodeFactory.instance.objectNode().put("status", "running")))
            .register(QmpCommand.of("x-big", List.of(), ReplyType.ANY, (a, s) -> JsonNodeFactory.instance.textNode("x".repeat(16384))));
    private final QmpMonitor monitor = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, ""), pool);

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static String text(ByteBuf b) {
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
        }
    }

    @Test
    void handlerOnAnEmbeddedChannel() throws Exception {
        QmpMonitor direct = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, ""), Runnable::run);
        EmbeddedChannel ch = new EmbeddedChannel(new QmpChannelHandler(direct));
        assertThat(text(ch.readOutbound())).startsWith("{\"QMP\": {").endsWith("}\r\n");
        assertThat((Object) ch.readOutbound()).as("the greeting is a write of its own").isNull();
        ch.writeInbound(Unpooled.copiedBuffer("{\"execute\": \"qmp_capa", StandardCharsets.US_ASCII));
        assertThat((Object) ch.readOutbound()).isNull();
        ch.writeInbound(Unpooled.copiedBuffer("bilities\"}{\"execute\":\"query-status\",\"id\":3}", StandardCharsets.US_ASCII));
        assertThat(text(ch.readOutbound())).isEqualTo("{\"return\": {}}\r\n");
        assertThat(text(ch.readOutbound())).isEqualTo("{\"return\": {\"status\": \"running\"}, \"id\": 3}\r\n");
        assertThat(direct.sessionCount()).isEqualTo(1);
        ch.close();
        assertThat(direct.sessionCount()).isZero();
    }

    @Test
    void handlerStopsReadingWhileTheSessionsQueueIsFull() throws Exception {
        List<Runnable> held = new java.util.ArrayList<>();
        QmpMonitor m = new QmpMonitor(registry, new QmpMonitor.Version(7, 2, 0, ""), held::add);
        EmbeddedChannel ch = new EmbeddedChannel(new QmpChannelHandler(m));
        text(ch.readOutbound());
        ch.writeInbound(Unpooled.copiedBuffer("{\"execute\":\"qmp_capabilities\"}", StandardCharsets.US_ASCII));
        while (!held.isEmpty()) {
            held.remove(0).run();
        }
        text(ch.readOutbound());
        ch.writeInbound(Unpooled.copiedBuffer("{\"execute\":\"query-status\"}".repeat(30), StandardCharsets.US_ASCII));
        assertThat(ch.config().isAutoRead()).as("queue full: reading paused").isFalse();
        assertThat(m.queuedRequests()).isEqualTo(8);
        for (int replies = 0; replies < 30; ) {
            while (!held.isEmpty()) {
                held.remove(0).run();
            }
            ch.runPendingTasks(); // resumeReading hands the rest to the session on the event loop
            for (ByteBuf b; (b = ch.readOutbound()) != null; replies++) {
                assertThat(text(b)).contains("running");
            }
        }
        assertThat(ch.config().isAutoRead()).as("everything taken: reading again").isTrue();
        assertThat(m.queuedRequests()).isZero();
        ch.close();
    }

    /**
     * Clients that send requests as fast as they can and never read their replies: each costs the VMM
     * a bounded amount (its queue fills, the server stops reading it, its own sends block), and a new
     * client is still answered, its request waiting for at most one request per flooder.
     */
    @Test
    void floodersThatNeverReadDoNotStarveAFreshClient() throws Exception {
        int flooders = 20;
        try (QmpServer server = new QmpServer(monitor)) {
            InetSocketAddress at = server.listenTcp("127.0.0.1", 0);
            List<SocketChannel> floods = new java.util.ArrayList<>();
            ByteBuffer burst = ByteBuffer.wrap(("{\"execute\":\"qmp_capabilities\"}" + "{\"execute\":\"x-big\"}".repeat(2000))
                    .getBytes(StandardCharsets.US_ASCII));
            try {
                for (int i = 0; i < flooders; i++) {
                    SocketChannel f = SocketChannel.open(at);
                    f.configureBlocking(false);
                    floods.add(f);
                }
                long sent = 0;
                long deadline = System.nanoTime() + 60_000_000_000L;
                boolean stuck = false;
                while (!stuck && System.nanoTime() < deadline) { // until every flooder's writes stop going through
                    stuck = true;
                    for (SocketChannel f : floods) {
                        burst.rewind();
                        int n = f.write(burst);
                        sent += n;
                        stuck &= n < burst.capacity();
                    }
                    if (stuck) {
                        Thread.sleep(200);
                        for (SocketChannel f : floods) {
                            burst.rewind();
                            stuck &= f.write(burst) == 0;
                        }
                    }
                }
                assertThat(stuck).as("the server stopped reading the flooders (%d bytes sent)", sent).isTrue();
                assertThat(monitor.queuedRequests()).isLessThanOrEqualTo(flooders * 8);
                try (Socket c = new Socket(at.getAddress(), at.getPort())) {
                    c.setSoTimeout(30_000);
                    BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.US_ASCII));
                    assertThat(r.readLine()).startsWith("{\"QMP\"");
                    c.getOutputStream().write("{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-status\",\"id\":\"fresh\"}"
                            .getBytes(StandardCharsets.US_ASCII));
                    assertThat(r.readLine()).isEqualTo("{\"return\": {}}");
                    assertThat(r.readLine()).contains("\"id\": \"fresh\"");
                }
            } finally {
                for (SocketChannel f : floods) {
                    f.close();
                }
            }
        }
    }

    @Test
    void listenErrorsNameTheAddressAndSayWhy(@TempDir Path dir) {
        try (QmpServer server = new QmpServer(monitor)) {
            Path sock = dir.resolve("no/such/folder/qmp.sock");
            assertThatThrownBy(() -> server.listenUnix(sock))
                    .hasMessage("cannot listen on unix:" + sock + ": its folder " + sock.getParent() + " does not exist");
            assertThatThrownBy(() -> server.listenTcp("no-such-host.invalid", 4444))
                    .hasMessage("cannot listen on tcp:no-such-host.invalid:4444: the host name does not resolve to an address");
        }
    }

    @Test
    void tcpEndpointServesSeveralClientsEachWithItsOwnState() throws Exception {
        try (QmpServer server = new QmpServer(monitor)) {
            InetSocketAddress at = server.listenTcp("127.0.0.1", 0);
            try (Socket a = new Socket(at.getAddress(), at.getPort()); Socket b = new Socket(at.getAddress(), at.getPort())) {
                BufferedReader ra = new BufferedReader(new InputStreamReader(a.getInputStream(), StandardCharsets.US_ASCII));
                BufferedReader rb = new BufferedReader(new InputStreamReader(b.getInputStream(), StandardCharsets.US_ASCII));
                assertThat(ra.readLine()).startsWith("{\"QMP\"");
                assertThat(rb.readLine()).startsWith("{\"QMP\"");
                OutputStream oa = a.getOutputStream();
                oa.write("{\"execute\":\"qmp_capabilities\"}".getBytes(StandardCharsets.US_ASCII));
                oa.flush();
                assertThat(ra.readLine()).isEqualTo("{\"return\": {}}");
                b.getOutputStream().write("{\"execute\":\"query-status\"}".getBytes(StandardCharsets.US_ASCII));
                assertThat(rb.readLine()).contains("Expecting capabilities negotiation");
                monitor.broadcast("STOP", null);
                oa.write("{\"execute\":\"query-status\"}".getBytes(StandardCharsets.US_ASCII));
                assertThat(ra.readLine()).contains("\"event\": \"STOP\"");
                assertThat(ra.readLine()).contains("running");
                b.getOutputStream().write("{\"execute\":\"qmp_capabilities\"}".getBytes(StandardCharsets.US_ASCII));
                assertThat(rb.readLine()).as("b negotiated after the event: no STOP replayed").isEqualTo("{\"return\": {}}");
            }
        }
    }

    @Test
    void unixSocketEndpointIsOwnerOnly(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("qmp.sock");
        try (QmpServer server = new QmpServer(monitor)) {
            server.listenUnix(sock);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-------");
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.US_ASCII));
                assertThat(r.readLine()).startsWith("{\"QMP\"");
                ch.write(ByteBuffer.wrap("{\"execute\":\"qmp_capabilities\"} {\"execute\":\"query-status\"}".getBytes(StandardCharsets.US_ASCII)));
                assertThat(r.readLine()).isEqualTo("{\"return\": {}}");
                assertThat(r.readLine()).contains("running");
            }
        }
        assertThat(sock).doesNotExist();
    }

    @Test
    void unixSocketPathHoldingAFileIsRefusedAndTheFileKept(@TempDir Path dir) throws Exception {
        Path notes = Files.writeString(dir.resolve("notes.txt"), "keep me");
        try (QmpServer server = new QmpServer(monitor)) {
            assertThatThrownBy(() -> server.listenUnix(notes)).isInstanceOf(IOException.class)
                    .hasMessage("cannot listen on unix:" + notes + ": the path exists and is not a socket; refusing to replace it");
        }
        assertThat(Files.readString(notes)).isEqualTo("keep me");
    }

    @Test
    void liveSocketIsRefusedStaleSocketIsReplaced(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("qmp.sock");
        try (QmpServer first = new QmpServer(monitor); QmpServer second = new QmpServer(monitor)) {
            first.listenUnix(sock);
            assertThatThrownBy(() -> second.listenUnix(sock)).hasMessageEndingWith("another process is listening on it");
        }
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(sock)); // closing it leaves the socket file behind: stale
        }
        assertThat(sock).exists();
        try (QmpServer server = new QmpServer(monitor)) {
            server.listenUnix(sock);
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.US_ASCII));
                assertThat(r.readLine()).startsWith("{\"QMP\"");
            }
        }
        assertThat(sock).doesNotExist();
    }
}
