package dev.lbrvmm.vmm.machine;

/**
 * The 8259 PIC pair (ports 0x20/0x21 and 0xA0/0xA1) as far as a kernel that uses the local APIC
 * needs it: the initialisation sequence (ICW1 to ICW4) is accepted and the interrupt mask (OCW1)
 * is kept and read back. No interrupt is ever raised; IRR and ISR read 0.
 */
final class Pic8259 implements PortDevice {
    static final int MASTER = 0x20, SLAVE = 0xA0;

    private final int[] mask = {0, 0};
    /** Initialisation words still expected after ICW1 (ICW2, ICW3 and ICW4 go to the data port). */
    private final int[] icwLeft = {0, 0};

    private static int chip(int port) {
        return (port & 0xF0) == SLAVE ? 1 : 0;
    }

    @Override
    public long in(int port, int size) {
        return (port & 1) == 1 ? mask[chip(port)] : 0;
    }

    @Override
    public void out(int port, int size, long value) {
        int c = chip(port);
        int v = (int) value & 0xFF;
        if ((port & 1) == 0) {
            if ((v & 0x10) != 0) { // ICW1: ICW2, ICW3 (cascade), then ICW4 if bit 0 asks for it
                icwLeft[c] = (v & 1) != 0 ? 3 : 2;
                mask[c] = 0;
            }
            return; // OCW2/OCW3 (EOI, register selection): nothing to do without interrupts
        }
        if (icwLeft[c] > 0) {
            icwLeft[c]--;
        } else {
            mask[c] = v; // OCW1
        }
    }
}
