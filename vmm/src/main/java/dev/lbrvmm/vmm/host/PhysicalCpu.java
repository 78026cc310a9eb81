package dev.lbrvmm.vmm.host;

import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.LbrUnit;

/** A physical CPU of the modelled host: its LBR unit, the task on it, perf's per-CPU state. */
public final class PhysicalCpu {
    private final int index;
    private final CpuModel model;
    private final LbrUnit lbr;
    Task current;
    /** perf's "last" fields: the context saved last on this CPU and its log id (restore skip in intel_pmu_lbr_restore). */
    TaskLbrContext lastSaved;
    long lastLogId;
    /** perf has enabled the LBR for host code here (an active non-guest LBR event). */
    boolean hostLbr;
    long hostLbrSelect;
    long contextSwitches;
    /** This CPU's time for traces: guest instructions its tasks ran (an idle CPU catches up each round). */
    long clock;

    PhysicalCpu(int index, CpuModel model) {
        this.index = index;
        this.model = model;
        this.lbr = model.hasLbr() ? new LbrUnit(model, null) : null;
    }

    public int index() {
        return index;
    }

    public CpuModel model() {
        return model;
    }

    /** The physical LBR (null when the host model has none). */
    public LbrUnit lbr() {
        return lbr;
    }

    public Task current() {
        return current;
    }

    /** True while perf lets host code on this CPU record branches (a host LBR user owns the LBR). */
    public boolean hostLbrEnabled() {
        return hostLbr;
    }

    public long hostLbrSelect() {
        return hostLbrSelect;
    }

    public long clock() {
        return clock;
    }

    public long contextSwitches() {
        return contextSwitches;
    }
}
