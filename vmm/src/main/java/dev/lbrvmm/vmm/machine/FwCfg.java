package dev.lbrvmm.vmm.machine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * QEMU's firmware configuration device, the legacy port interface (hw/nvram/fw_cfg.c): a 16-bit
 * write to the selector port 0x510 picks an item and resets its offset; 8-bit reads of the data
 * port 0x511 return its bytes one by one, then 0. Items: the "QEMU" signature, the interface ID
 * (1: traditional interface, no DMA), the CPU count, the RAM size, the largest possible RAM
 * (kvm-unit-tests' key 0x11) and an empty file directory. Numbers are little-endian, the file
 * directory's count big-endian, as QEMU writes them.
 */
public final class FwCfg implements PortDevice {
    public static final int SELECTOR = 0x510, DATA = 0x511;
    public static final int SIGNATURE = 0x00, ID = 0x01, RAM_SIZE = 0x03, NB_CPUS = 0x05, MAX_CPUS = 0x0F, MAX_RAM = 0x11,
            FILE_DIR = 0x19;

    private final Map<Integer, byte[]> items = new HashMap<>();
    private byte[] current = new byte[0];
    private int offset;

    /** @param ramEnd one past the highest RAM address (key 0x11, what kvm-unit-tests maps) */
    public FwCfg(int cpus, long ramSize, long ramEnd) {
        items.put(SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(ID, le(1, 4));
        items.put(RAM_SIZE, le(ramSize, 8));
        items.put(NB_CPUS, le(cpus, 2));
        items.put(MAX_CPUS, le(cpus, 2));
        items.put(MAX_RAM, le(ramEnd, 8));
        items.put(FILE_DIR, new byte[4]); // no files: a big-endian count of 0
    }

    private static byte[] le(long v, int n) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        byte[] out = new byte[n];
        System.arraycopy(b.array(), 0, out, 0, n);
        return out;
    }

    @Override
    public long in(int port, int size) {
        if (port != DATA) {
            return size == 1 ? 0xFF : 0xFFFF; // the selector port reads as nothing
        }
        long v = 0;
        for (int k = 0; k < size; k++) {
            int b = offset < current.length ? current[offset] & 0xFF : 0;
            offset++;
            v |= (long) b << (8 * k);
        }
        return v;
    }

    @Override
    public void out(int port, int size, long value) {
        if (port == SELECTOR) {
            current = items.getOrDefault((int) (value & 0x3FFF), new byte[0]);
            offset = 0;
        }
    }
}
