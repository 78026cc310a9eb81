package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.host.SaveRestoreCounts;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Accounting of one vCPU's guest-LBR work (or a VM's, summed) at one moment: VM exits by reason,
 * LBR-MSR exits, pass-through accesses and switches, perf events, context switches,
 * saves/restores and the MSR accesses they made, LBR accesses the host's reclaim answered with 0
 * or dropped, warnings, guest instructions; and the modelled cycle cost of it all.
 */
public record LbrStats(Map<ExitReason, Long> exitsByReason, long lbrMsrExits, long passthroughAccesses, long passthroughSwitches,
        long eventsCreated, long eventsReleased, SaveRestoreCounts.Totals saveRestore, long reclaimDrops, long warnings,
        long contextSwitches, long instructions) {

    public static final LbrStats NONE = new LbrStats(Map.of(), 0, 0, 0, 0, 0, SaveRestoreCounts.Totals.NONE, 0, 0, 0, 0);

    public long exits() {
        return exitsByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Modelled cycles spent on exits, LBR MSR traffic and perf events. */
    public long overheadCycles(CostTable c) {
        return exits() * c.vmExit() + saveRestore.msrReads() * c.rdmsr() + saveRestore.msrWrites() * c.wrmsr()
                + eventsCreated * c.perfEvent();
    }

    public LbrStats plus(LbrStats o) {
        EnumMap<ExitReason, Long> sum = new EnumMap<>(ExitReason.class);
        exitsByReason.forEach((k, v) -> sum.merge(k, v, Long::sum));
        o.exitsByReason.forEach((k, v) -> sum.merge(k, v, Long::sum));
        return new LbrStats(Collections.unmodifiableMap(sum), lbrMsrExits + o.lbrMsrExits, passthroughAccesses + o.passthroughAccesses,
                passthroughSwitches + o.passthroughSwitches, eventsCreated + o.eventsCreated, eventsReleased + o.eventsReleased,
                saveRestore.plus(o.saveRestore), reclaimDrops + o.reclaimDrops, warnings + o.warnings,
                contextSwitches + o.contextSwitches, instructions + o.instructions);
    }
}
