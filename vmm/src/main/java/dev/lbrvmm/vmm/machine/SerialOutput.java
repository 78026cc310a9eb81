package dev.lbrvmm.vmm.machine;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/** Where guest console bytes go (the serial port and the Linux shim's write(1/2, ...)), line-buffered. */
public final class SerialOutput implements AutoCloseable {
    private final OutputStream out;
    private final boolean closeOut;
    private final byte[] buf = new byte[8192];
    private int n;
    private long total;

    private final boolean lineBuffered;

    /**
     * @param out      null discards everything
     * @param closeOut true for a file this output owns: it is block-buffered (binary guest output,
     *                 such as lbr_sample's, holds many newline bytes), consoles are line-buffered
     */
    public SerialOutput(OutputStream out, boolean closeOut) {
        this.out = out;
        this.closeOut = closeOut;
        this.lineBuffered = !closeOut;
    }

    public void write(int b) {
        total++;
        if (out == null) {
            return;
        }
        buf[n++] = (byte) b;
        if ((b == '\n' && lineBuffered) || n == buf.length) {
            flush();
        }
    }

    public long bytesWritten() {
        return total;
    }

    public void flush() {
        if (out == null || n == 0) {
            return;
        }
        try {
            out.write(buf, 0, n);
            out.flush();
            n = 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write guest serial output", e);
        }
    }

    @Override
    public void close() {
        flush();
        if (closeOut && out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close guest serial output", e);
            }
        }
    }
}
