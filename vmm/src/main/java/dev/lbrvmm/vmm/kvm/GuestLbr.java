package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.host.Tracer;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.LbrFormat;
import dev.lbrvmm.vmm.cpu.LbrUnit;
import dev.lbrvmm.vmm.cpu.Msr;
import dev.lbrvmm.vmm.host.HostPerf;
import dev.lbrvmm.vmm.host.LbrEvent;
import dev.lbrvmm.vmm.host.PhysicalCpu;
import dev.lbrvmm.vmm.host.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KVM's per-vCPU guest-LBR state (struct lbr_desc in pmu_intel.h; docs/design.md): the host perf event, whether the LBR MSRs are
 * passed through, whether the guest used them this slice, the lazy-cleanup request, and the
 * eager policy's save area. Policies ({@link GuestLbrPolicy}) decide; this class does.
 */
public final class GuestLbr {
    private static final Logger LOG = LoggerFactory.getLogger(GuestLbr.class);
    /** Warnings per vCPU before they are rate-limited to silence (the kernel's printk_ratelimited). */
    private static final int WARN_LIMIT = 10;

    final Vcpu vcpu;
    final GuestLbrPolicy policy;
    /** Warnings since the vCPU was created (stats.warnings restarts at a reset; the rate limit does not). */
    private long warned;
    private String lastSuppressed;
    final MsrBitmap bitmap = new MsrBitmap();
    final LbrCounters stats = new LbrCounters();
    private final java.util.Set<Integer> lbrMsrs;
    /** The same set as a bitmap: the MSR paths test it on every guest RDMSR/WRMSR. */
    private final java.util.BitSet lbrMsrBits = new java.util.BitSet();
    LbrEvent event;
    boolean passthrough;
    /** lbr_used ([v3]) / pmc_in_use bit 58 (upstream): the guest touched the LBR MSRs this slice. */
    boolean used;
    boolean needCleanup;
    long[][] eagerSaved;
    int eagerTos;
    long eagerSelect;

    GuestLbr(Vcpu vcpu, GuestLbrPolicy policy) {
        this.vcpu = vcpu;
        this.policy = policy;
        var m = vcpu.model();
        this.lbrMsrs = m.hasLbr() ? java.util.Set.copyOf(new LbrUnit(m, null).msrIndices()) : java.util.Set.of();
        lbrMsrs.forEach(lbrMsrBits::set);
    }

    /** The LBR MSRs of the vCPU's model (what pass-through covers: N x 2 or 3 + 2). */
    public java.util.Set<Integer> lbrMsrs() {
        return lbrMsrs;
    }

    /** Whether an MSR is one of this model's LBR MSRs. */
    public boolean isLbrMsr(int index) {
        return index >= 0 && lbrMsrBits.get(index);
    }

    /** Back to the state of a new vCPU (after reset): intercepted, unused, nothing saved, policy re-initialized. */
    void resetState() {
        setPassthrough(false);
        used = false;
        needCleanup = false;
        eagerSaved = null;
        if (vcpu.vm().guestLbr()) {
            policy.init(this);
        }
    }

    public boolean passthrough() {
        return passthrough;
    }

    public LbrEvent event() {
        return event;
    }

    public GuestLbrPolicy policy() {
        return policy;
    }

    PhysicalCpu pcpu() {
        return vcpu.pcpu();
    }

    LbrUnit physical() {
        return pcpu().lbr();
    }

    HostPerf perf() {
        return vcpu.vm().kvm().host().perf();
    }

    boolean guestDebugctlLbr() {
        return (vcpu.guestDebugctl() & DebugCtl.LBR) != 0;
    }

    void setPassthrough(boolean on) {
        if (on == passthrough) {
            return; // lbr_desc.msr_passthrough caches the bitmap state (vmx_passthrough_lbr_msrs)
        }
        passthrough = on;
        if (on) {
            bitmap.allow(lbrMsrs);
            stats.passthroughOn++;
        } else {
            bitmap.intercept(lbrMsrs);
            stats.passthroughOff++;
        }
        vcpu.vm().events().lbrPassthrough(vcpu.index(), on);
        if (vcpu.tracing(Tracer.Category.LBR)) {
            vcpu.trace(Tracer.Category.LBR, on ? "pass-through on" : "pass-through off", null);
        }
    }

    /**
     * Creates the guest LBR event bound to the vCPU thread: task-pinned (flexible for the v3 lazy
     * design), call-stack so perf saves and restores it, exclude_host.
     */
    void createEvent(boolean pinned) {
        Task t = vcpu.thread();
        event = perf().createTaskEvent("vcpu-" + vcpu.index(), t, pinned, true, true, 0);
        stats.eventsCreated++;
        if (vcpu.tracing(Tracer.Category.LBR)) {
            vcpu.trace(Tracer.Category.LBR, "perf event created", "\"pinned\":" + pinned);
        }
    }

    void releaseEvent() {
        if (event == null) {
            return;
        }
        perf().release(event, pcpu());
        event = null;
        stats.eventsReleased++;
        if (vcpu.tracing(Tracer.Category.LBR)) {
            vcpu.trace(Tracer.Category.LBR, "perf event released", null);
        }
    }

    boolean eventActive() {
        return event != null && event.state() == LbrEvent.State.ACTIVE;
    }

    void warn(String what) {
        stats.warnings++;
        if (++warned <= WARN_LIMIT) {
            LOG.warn("vcpu-{}: {}{}", vcpu.index(), what, warned == WARN_LIMIT ? " (further warnings of this vCPU are counted, not printed)" : "");
        } else {
            lastSuppressed = what;
        }
        vcpu.vm().events().lbrReclaimed(vcpu.index());
        if (vcpu.tracing(Tracer.Category.LBR)) {
            vcpu.trace(Tracer.Category.LBR, "reclaimed by the host", "\"warning\":" + Tracer.quote(what));
        }
    }

    /** At teardown: how many warnings the limit kept quiet, so a silence is not mistaken for none. */
    void reportSuppressed() {
        if (warned > WARN_LIMIT) {
            LOG.warn(String.format(java.util.Locale.ROOT, "vcpu-%d: %,d more warnings suppressed (the last: %s); --stats counts them",
                    vcpu.index(), warned - WARN_LIMIT, lastSuppressed));
        }
    }

    long physicalRead(int index) {
        return physical().readMsr(index);
    }

    void physicalWrite(int index, long value) {
        physical().writeMsr(index, value);
    }

    /** Eager design: save the whole stack (every FROM/TO/INFO, TOS, LBR_SELECT) at VM exit. */
    void eagerSave() {
        var m = vcpu.model();
        int n = m.lbrDepth();
        boolean info = LbrFormat.hasInfoMsr(m.lbrFormat());
        if (eagerSaved == null) {
            eagerSaved = new long[3][n];
        }
        LbrUnit lbr = physical();
        for (int i = 0; i < n; i++) {
            eagerSaved[0][i] = lbr.readMsr(m.fromBase() + i);
            eagerSaved[1][i] = lbr.readMsr(m.toBase() + i);
            if (info) {
                eagerSaved[2][i] = lbr.readMsr(m.infoBase() + i);
            }
        }
        eagerTos = (int) lbr.readMsr(Msr.MSR_LBR_TOS);
        eagerSelect = m.hasLbrSelect() ? lbr.readMsr(Msr.MSR_LBR_SELECT) : 0;
        stats.saveRestore.saved(lbrMsrs.size());
    }

    /** Eager design: write the saved stack back at VM entry. */
    void eagerRestore() {
        if (eagerSaved == null) {
            return;
        }
        var m = vcpu.model();
        int n = m.lbrDepth();
        boolean info = LbrFormat.hasInfoMsr(m.lbrFormat());
        LbrUnit lbr = physical();
        for (int i = 0; i < n; i++) {
            lbr.writeMsr(m.fromBase() + i, eagerSaved[0][i]);
            lbr.writeMsr(m.toBase() + i, eagerSaved[1][i]);
            if (info) {
                lbr.writeMsr(m.infoBase() + i, eagerSaved[2][i]);
            }
        }
        lbr.writeMsr(Msr.MSR_LBR_TOS, eagerTos);
        if (m.hasLbrSelect()) {
            lbr.writeMsr(Msr.MSR_LBR_SELECT, eagerSelect);
        }
        stats.saveRestore.restored(lbrMsrs.size());
    }
}
