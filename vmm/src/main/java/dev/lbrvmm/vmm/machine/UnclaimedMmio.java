package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.MmioBus;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Physical addresses outside RAM that no device claims, as on a PC: reads return all ones,
 * writes are dropped. Each address is reported once, as a warning naming it.
 */
final class UnclaimedMmio implements MmioBus {
    private static final Logger LOG = LoggerFactory.getLogger(UnclaimedMmio.class);
    private final Set<Long> reported = ConcurrentHashMap.newKeySet();

    @Override
    public long read(long physical, int size) {
        report(physical, "read: all ones");
        return -1L;
    }

    @Override
    public void write(long physical, int size, long value) {
        report(physical, "write dropped");
    }

    private void report(long physical, String what) {
        if (reported.add(physical)) {
            LOG.warn(String.format("guest accessed unclaimed MMIO at physical address 0x%x (%s)", physical, what));
        }
    }
}
