package dev.lbrvmm.vmm.machine;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Where guest console bytes go (the serial port and the Linux shim's write(1/2, ...)), line-buffered.
 * A failing write (disk full, /dev/full, a closed pipe) is not an exception in the vCPU's path: the
 * output records the first failure, drops everything after it and tells its owner, which stops the
 * guest and reports the failure in one line.
 */
public final class SerialOutput implements AutoCloseable {
    private final OutputStream out;
    private final String name;
    private final boolean closeOut;
    private final byte[] buf = new byte[8192];
    private int n;
    private long total;
    private final boolean lineBuffered;
    private String failure;
    private Runnable onFailure = () -> { };

    /**
     * @param out      null discards everything
     * @param name     what the output is, for the failure message ("serial output file out.txt")
     * @param closeOut true for a file this output owns: it is block-buffered (binary guest output,
     *                 such as lbr_sample's, holds many newline bytes), consoles are line-buffered
     */
    public SerialOutput(OutputStream out, String name, boolean closeOut) {
        this.out = out;
        this.name = name;
        this.closeOut = closeOut;
        this.lineBuffered = !closeOut;
    }

    /** Called once, on the writing thread, when a write first fails. */
    void onFailure(Runnable r) {
        onFailure = r;
    }

    /** "cannot write NAME: reason" after a failed write, else null. */
    public String failure() {
        return failure;
    }

    public void write(int b) {
        total++;
        if (out == null || failure != null) {
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
        if (out == null || n == 0 || failure != null) {
            return;
        }
        try {
            out.write(buf, 0, n);
            out.flush();
            if (out instanceof PrintStream ps && ps.checkError()) { // PrintStream keeps its IOExceptions to itself
                throw new IOException("write error");
            }
            n = 0;
        } catch (IOException e) {
            fail(e);
        }
    }

    private void fail(IOException e) {
        n = 0;
        if (failure == null) {
            failure = "cannot write " + name + ": " + (e.getMessage() == null ? e.toString() : e.getMessage());
            onFailure.run();
        }
    }

    @Override
    public void close() {
        flush();
        if (closeOut && out != null) {
            try {
                out.close();
            } catch (IOException e) {
                fail(e);
            }
        }
    }
}
