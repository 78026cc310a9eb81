package dev.lbrvmm.vmm.kvm;

import java.util.EnumMap;
import java.util.Map;

/**
 * Accounting of one vCPU's guest-LBR work (or a VM's, summed): VM exits, LBR-MSR exits,
 * pass-through switches, perf events, context-switch saves/restores and the MSR accesses they
 * made, LBR accesses the host's reclaim answered with 0 or dropped, and the modelled cycle cost.
 */
public final class LbrStats {
    final EnumMap<ExitReason, Long> exits = new EnumMap<>(ExitReason.class);
    long lbrMsrExits;
    long passthroughAccesses;
    long passthroughOn;
    long passthroughOff;
    long eventsCreated;
    long eventsReleased;
    long saves;
    long restores;
    long skippedRestores;
    long resets;
    long saveMsrReads;
    long restoreMsrWrites;
    long reclaimDrops;
    long warnings;
    long contextSwitches;
    long instructions;

    void exit(ExitReason r) {
        exits.merge(r, 1L, Long::sum);
    }

    public long exits() {
        return exits.values().stream().mapToLong(Long::longValue).sum();
    }

    public Map<ExitReason, Long> exitsByReason() {
        return Map.copyOf(exits);
    }

    public long lbrMsrExits() {
        return lbrMsrExits;
    }

    public long passthroughAccesses() {
        return passthroughAccesses;
    }

    public long passthroughSwitches() {
        return passthroughOn + passthroughOff;
    }

    public long eventsCreated() {
        return eventsCreated;
    }

    public long eventsReleased() {
        return eventsReleased;
    }

    public long saves() {
        return saves;
    }

    public long restores() {
        return restores;
    }

    public long skippedRestores() {
        return skippedRestores;
    }

    public long resets() {
        return resets;
    }

    /** RDMSR/WRMSR of LBR MSRs done to save and restore the guest's stack (host perf or eager KVM). */
    public long saveRestoreMsrAccesses() {
        return saveMsrReads + restoreMsrWrites;
    }

    public long reclaimDrops() {
        return reclaimDrops;
    }

    public long warnings() {
        return warnings;
    }

    public long contextSwitches() {
        return contextSwitches;
    }

    public long instructions() {
        return instructions;
    }

    /** Modelled cycles spent on exits, LBR MSR traffic and perf events. */
    public long overheadCycles(CostTable c) {
        return exits() * c.vmExit() + saveMsrReads * c.rdmsr() + restoreMsrWrites * c.wrmsr() + eventsCreated * c.perfEvent();
    }

    public LbrStats plus(LbrStats o) {
        LbrStats s = new LbrStats();
        exits.forEach((k, v) -> s.exits.merge(k, v, Long::sum));
        o.exits.forEach((k, v) -> s.exits.merge(k, v, Long::sum));
        s.lbrMsrExits = lbrMsrExits + o.lbrMsrExits;
        s.passthroughAccesses = passthroughAccesses + o.passthroughAccesses;
        s.passthroughOn = passthroughOn + o.passthroughOn;
        s.passthroughOff = passthroughOff + o.passthroughOff;
        s.eventsCreated = eventsCreated + o.eventsCreated;
        s.eventsReleased = eventsReleased + o.eventsReleased;
        s.saves = saves + o.saves;
        s.restores = restores + o.restores;
        s.skippedRestores = skippedRestores + o.skippedRestores;
        s.resets = resets + o.resets;
        s.saveMsrReads = saveMsrReads + o.saveMsrReads;
        s.restoreMsrWrites = restoreMsrWrites + o.restoreMsrWrites;
        s.reclaimDrops = reclaimDrops + o.reclaimDrops;
        s.warnings = warnings + o.warnings;
        s.contextSwitches = contextSwitches + o.contextSwitches;
        s.instructions = instructions + o.instructions;
        return s;
    }
}
