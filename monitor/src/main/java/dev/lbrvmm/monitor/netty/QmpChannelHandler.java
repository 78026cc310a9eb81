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
 * write of its own), feeds received bytes to it, writes replies and events with CRLF. A client
 * that stops reading is disconnected once its unsent output passes {@link #MAX_PENDING_BYTES},
 * so a slow client can never hold memory or the VMM back.
 */
public final class QmpChannelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(QmpChannelHandler.class);
    public static final long MAX_PENDING_BYTES = 16L << 20;

    private final QmpMonitor monitor;
    private QmpSession session;

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
        });
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            byte[] b = new byte[buf.readableBytes()];
            buf.readBytes(b);
            if (session != null) {
                session.receive(b, 0, b.length);
            }
        } finally {
            buf.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
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
