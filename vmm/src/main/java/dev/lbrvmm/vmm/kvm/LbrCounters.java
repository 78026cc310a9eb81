package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.host.SaveRestoreCounts;
import java.util.Collections;
import java.util.EnumMap;

/** The running counts behind one vCPU's {@link LbrStats}, incremented where the work happens. */
final class LbrCounters {
    final EnumMap<ExitReason, Long> exits = new EnumMap<>(ExitReason.class);
    long lbrMsrExits;
    long passthroughAccesses;
    long passthroughOn;
    long passthroughOff;
    long eventsCreated;
    long eventsReleased;
    /** KVM's own saves and restores (the eager design); host perf's are counted on the vCPU thread. */
    final SaveRestoreCounts saveRestore = new SaveRestoreCounts();
    long reclaimDrops;
    long warnings;
    long contextSwitches;
    long instructions;

    void exit(ExitReason r) {
        exits.merge(r, 1L, Long::sum);
    }

    /** The counts now, with the host's save/restore work for the vCPU thread added. */
    LbrStats snapshot(SaveRestoreCounts.Totals host) {
        return new LbrStats(Collections.unmodifiableMap(new EnumMap<>(exits)), lbrMsrExits, passthroughAccesses, passthroughOn + passthroughOff, eventsCreated,
                eventsReleased, saveRestore.totals().plus(host), reclaimDrops, warnings, contextSwitches, instructions);
    }
}
