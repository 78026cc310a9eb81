package dev.lbrvmm.monitor.netty;

import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.QmpSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QMP connection on a Netty channel: opens a session on connect (the greeting goes out in a
 * write of its own), feeds received bytes to it, writes replies and events with CRLF.
 * Flow control both ways keeps a connection's memory bounded: when the session's request queue is
 * full it takes no more bytes, and the handler keeps the rest of the read and turns auto-read off
 * until the session asks for more; while the channel is not writable (the client does not read its
 * replies) the session's requests wait. Events still go out to such a client, and it is
 * disconnected once its unsent output passes {@link #MAX_PENDING_BYTES}.
 */
public final class QmpChannelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(QmpChannelHandler.class);
    public static final long MAX_PENDING_BYTES = 16L << 20;

    /** Bytes handed to the session per call, so a resumed read copies little. */
    private static final int FEED_CHUNK = 4096;

    private final QmpMonitor monitor;
    private QmpSession session;
    /** Received bytes the session has not taken yet (its queue was full); touched on the event loop only. */
    private ByteBuf unread;

    public QmpChannelHandler(QmpMonitor monitor) {
        this.monitor = monitor;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        session = monitor.open(new QmpSession.Transport() {
            @Override
            public void send(String json) {
                if (!ch.isActive()) {
                    return;
                }
                if (!ch.isWritable() && ch.bytesBeforeWritable() > MAX_PENDING_BYTES) {
                    LOG.warn("QMP client {} does not read its output ({} bytes pending); disconnecting it", ch.remoteAddress(),
                            ch.bytesBeforeWritable());
                    ch.close();
                    return;
                }
                ch.writeAndFlush(Unpooled.copiedBuffer(json + "\r\n", StandardCharsets.US_ASCII));
            }

            @Override
            public void close() {
                ch.close();
            }

            @Override
            public boolean writable() {
                return ch.isWritable();
            }

            @Override
            public void resumeReading() {
                ctx.executor().execute(() -> feedUnread(ctx));
            }
        });
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        if (unread == null) {
            unread = buf;
        } else {
            unread = Unpooled.wrappedBuffer(unread, buf); // only while paused, which turned auto-read off
        }
        feedUnread(ctx);
    }

    /** Offers the session what it has not taken; pauses reading if it stops taking, resumes when all is taken. */
    private void feedUnread(ChannelHandlerContext ctx) {
        if (unread == null || session == null) {
            return;
        }
        byte[] chunk = new byte[Math.min(FEED_CHUNK, unread.readableBytes())];
        while (unread.isReadable()) {
            int n = Math.min(chunk.length, unread.readableBytes());
            unread.getBytes(unread.readerIndex(), chunk, 0, n);
            int taken = session.receive(chunk, 0, n);
            unread.skipBytes(taken);
            if (taken < n) {
                ctx.channel().config().setAutoRead(false); // back-pressure: the client's sends block in its socket
                return;
            }
        }
        unread.release();
        unread = null;
        if (!ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && session != null) {
            session.writableAgain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (unread != null) {
            unread.release();
            unread = null;
        }
        if (session != null) {
            monitor.close(session);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("QMP connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
