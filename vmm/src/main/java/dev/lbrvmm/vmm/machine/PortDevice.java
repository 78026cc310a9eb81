package dev.lbrvmm.vmm.machine;

/** A device on the I/O port bus. */
public interface PortDevice {
    long in(int port, int size);

    void out(int port, int size, long value);
}
