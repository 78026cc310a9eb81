package dev.lbrvmm.monitor.netty;

import dev.lbrvmm.monitor.QmpMonitor;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The monitor's listening endpoints: TCP (NIO) and Unix sockets (epoll). Every endpoint serves
 * any number of clients, each with its own session. Unix sockets are created owner-only (0600).
 */
public final class QmpServer implements AutoCloseable {
    private final QmpMonitor monitor;
    private final List<Channel> listeners = new ArrayList<>();
    private final List<Path> sockets = new ArrayList<>();
    private EventLoopGroup nio;
    private EventLoopGroup epoll;
    private Thread socketCleanup;

    public QmpServer(QmpMonitor monitor) {
        this.monitor = monitor;
    }

    /** Listens on host:port (port 0 picks a free one); returns the bound address. */
    public synchronized InetSocketAddress listenTcp(String host, int port) throws IOException {
        if (nio == null) {
            nio = new NioEventLoopGroup(1);
        }
        ServerBootstrap b = new ServerBootstrap().group(nio).channel(NioServerSocketChannel.class)
                .childOption(io.netty.channel.ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                .childOption(io.netty.channel.ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new QmpChannelHandler(monitor));
                    }
                });
        try {
            Channel ch = b.bind(host, port).sync().channel();
            listeners.add(ch);
            return (InetSocketAddress) ch.localAddress();
        } catch (Exception e) {
            throw new IOException("cannot listen on tcp:" + host + ":" + port + ": " + reason(e), e);
        }
    }

    /** Why a bind failed, in words (Netty's exceptions may carry no message, or one without the address). */
    static String reason(Throwable e) {
        if (e instanceof java.nio.channels.UnresolvedAddressException) {
            return "the host name does not resolve to an address";
        }
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int i = m.indexOf("failed: ");
        return i >= 0 && m.startsWith("bind(") ? m.substring(i + 8) : m; // "bind(..) failed: Address already in use"
    }

    /**
     * Listens on a Unix socket at {@code path}. A stale socket file there (nobody accepts on it) is
     * replaced; a live socket or anything that is not a socket is refused. QEMU's
     * unix_listen_saddr() unlinks whatever is at the path; we do not, so a typo cannot delete a file.
     * The socket file is removed on close and, through a shutdown hook, on SIGINT/SIGTERM.
     */
    public synchronized void listenUnix(Path path) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("Unix sockets need Netty's epoll transport, which is not available here: "
                    + Epoll.unavailabilityCause());
        }
        if (epoll == null) {
            epoll = new EpollEventLoopGroup(1);
        }
        removeStaleSocket(path);
        ServerBootstrap b = new ServerBootstrap().group(epoll).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                    @Override
                    protected void initChannel(DomainSocketChannel ch) {
                        ch.pipeline().addLast(new QmpChannelHandler(monitor));
                    }
                });
        try {
            listeners.add(b.bind(new DomainSocketAddress(path.toFile())).sync().channel());
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            sockets.add(path);
            if (socketCleanup == null) {
                socketCleanup = new Thread(this::deleteSockets, "qmp-socket-cleanup");
                Runtime.getRuntime().addShutdownHook(socketCleanup);
            }
        } catch (Exception e) {
            Path dir = path.toAbsolutePath().getParent();
            String why = dir != null && !Files.isDirectory(dir) ? "its folder " + dir + " does not exist" : reason(e);
            throw new IOException("cannot listen on unix:" + path + ": " + why, e);
        }
    }

    @Override
    public synchronized void close() {
        for (Channel c : listeners) {
            c.close().syncUninterruptibly();
        }
        listeners.clear();
        if (nio != null) {
            nio.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (epoll != null) {
            epoll.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
        deleteSockets();
        if (socketCleanup != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(socketCleanup);
            } catch (IllegalStateException e) {
                // closing from within shutdown: the hook runs anyway and finds nothing left
            }
            socketCleanup = null;
        }
    }

    private synchronized void deleteSockets() {
        for (Path p : sockets) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // best effort: the next listenUnix on this path replaces a stale socket
            }
        }
        sockets.clear();
    }

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException("cannot listen on unix:" + path + ": the path exists and is not a socket; refusing to replace it");
        }
        try (java.nio.channels.SocketChannel probe = java.nio.channels.SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("cannot listen on unix:" + path + ": another process is listening on it");
        } catch (ConnectException e) {
            Files.delete(path); // stale: left by a process that died without cleaning up
        }
    }
}
