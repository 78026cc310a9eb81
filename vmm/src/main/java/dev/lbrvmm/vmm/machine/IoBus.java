package dev.lbrvmm.vmm.machine;

import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 64K I/O port space. Unclaimed ports behave like an empty ISA bus: reads return all ones,
 * writes are dropped (each such port is logged once at debug level).
 */
public final class IoBus {
    private static final Logger LOG = LoggerFactory.getLogger(IoBus.class);

    private final PortDevice[] ports = new PortDevice[0x10000];
    private final Set<Integer> reported = new HashSet<>();

    public void attach(int first, int count, PortDevice d) {
        for (int p = first; p < first + count; p++) {
            if (ports[p] != null) {
                throw new IllegalStateException(String.format("I/O port 0x%x is claimed twice", p));
            }
            ports[p] = d;
        }
    }

    public long in(int port, int size) {
        PortDevice d = ports[port & 0xFFFF];
        if (d == null) {
            unclaimed(port);
            return size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFF_FFFFL;
        }
        return d.in(port, size);
    }

    public void out(int port, int size, long value) {
        PortDevice d = ports[port & 0xFFFF];
        if (d == null) {
            unclaimed(port);
            return;
        }
        d.out(port, size, value);
    }

    /** OUTS: the device is looked up once for all elements ({@code size} bytes each, little-endian). */
    public void outString(int port, int size, byte[] data) {
        PortDevice d = ports[port & 0xFFFF];
        if (d == null) {
            unclaimed(port);
            return;
        }
        for (int i = 0; i + size <= data.length; i += size) {
            long value = 0;
            for (int k = size - 1; k >= 0; k--) {
                value = value << 8 | (data[i + k] & 0xFF);
            }
            d.out(port, size, value);
        }
    }

    private void unclaimed(int port) {
        if (LOG.isDebugEnabled() && reported.add(port)) {
            LOG.debug(String.format("guest accessed unclaimed I/O port 0x%x", port));
        }
    }
}
