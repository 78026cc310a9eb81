package dev.lbrvmm.vmm.machine;

/**
 * COM1 as a 16550A subset at 0x3F8-0x3FF: writes to THR go to the output immediately, the line
 * status register always reports an empty transmitter, there is never received data, and no
 * interrupts are raised. Other registers keep what the guest writes (so probing code works).
 */
public final class SerialPort implements PortDevice {
    public static final int COM1 = 0x3F8;
    private static final int LSR_THRE = 0x20, LSR_TEMT = 0x40;

    private final SerialOutput out;
    private final int[] regs = new int[8];
    private int divisorLow = 1, divisorHigh;

    public SerialPort(SerialOutput out) {
        this.out = out;
    }

    private boolean dlab() {
        return (regs[3] & 0x80) != 0;
    }

    @Override
    public long in(int port, int size) {
        int reg = port - COM1;
        return switch (reg) {
            case 0 -> dlab() ? divisorLow : 0;
            case 1 -> dlab() ? divisorHigh : regs[1];
            case 2 -> 0x01; // IIR: no interrupt pending
            case 5 -> LSR_THRE | LSR_TEMT;
            case 6 -> 0xB0; // MSR: CTS, DSR, DCD
            default -> regs[reg];
        };
    }

    @Override
    public void out(int port, int size, long value) {
        int reg = port - COM1;
        int v = (int) value & 0xFF;
        if (reg == 0 && !dlab()) {
            out.write(v);
        } else if (reg == 0) {
            divisorLow = v;
        } else if (reg == 1 && dlab()) {
            divisorHigh = v;
        } else {
            regs[reg] = v;
        }
    }
}
