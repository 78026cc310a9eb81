package dev.lbrvmm.vmm.machine;

import java.util.function.IntConsumer;

/**
 * QEMU's isa-debug-exit at port 0xF4 ({@code -device isa-debug-exit,iobase=0xf4,iosize=0x04}):
 * a write of v ends the VMM with exit status {@code (v << 1) | 1}.
 */
public final class DebugExit implements PortDevice {
    public static final int PORT = 0xF4;
    public static final int SIZE = 4;

    private final IntConsumer exit;

    public DebugExit(IntConsumer exit) {
        this.exit = exit;
    }

    @Override
    public long in(int port, int size) {
        return 0;
    }

    @Override
    public void out(int port, int size, long value) {
        exit.accept((int) ((value << 1) | 1));
    }
}
