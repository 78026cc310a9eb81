package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.host.Tracer;
import dev.lbrvmm.vmm.cpu.BranchListener;
import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.CpuExit;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuidTable;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.cpu.LbrUnit;
import dev.lbrvmm.vmm.cpu.MmioBus;
import dev.lbrvmm.vmm.host.PhysicalCpu;
import dev.lbrvmm.vmm.host.Task;
import dev.lbrvmm.vmm.host.TaskBody;
import dev.lbrvmm.vmm.host.TaskLbrContext;
import java.util.Optional;

/**
 * A vCPU: the interpreter core, its host thread, and the hypervisor's MSR handling and guest-LBR
 * state. VM entry loads the guest DEBUGCTL into the physical CPU the thread runs on; VM exit
 * clears it, as the hardware does.
 */
public final class Vcpu {
    private static final VcpuExit HLT = new VcpuExit.Hlt();
    private static final VcpuExit SYSCALL = new VcpuExit.Syscall();
    private static final VcpuExit PREEMPTED = new VcpuExit.Preempted();
    private static final VcpuExit STOPPED = new VcpuExit.Stopped();

    private final Vm vm;
    private final int index;
    private final CpuModel model;
    private final Cpu cpu;
    private final VcpuMsrs msrs;
    private final GuestLbr lbr;
    private final VPmu pmu;
    private final Task thread;
    private TaskBody threadBody;
    private BranchListener tracer;
    private boolean hasRun;
    private boolean inGuest;

    /** The local APIC: x2APIC MSRs always, the xAPIC page once a Multiboot boot attaches it. */
    private final LocalApic apic;

    Vcpu(Vm vm, int index, CpuModel model, long affinity) {
        this.vm = vm;
        this.index = index;
        this.model = model;
        this.cpu = new Cpu(index, vm.memory());
        this.thread = vm.kvm().host().addTask("vcpu-" + index, Task.Kind.VCPU, affinity, new TaskBody() {
            @Override
            public long run(PhysicalCpu c, long budget) {
                retiredAtSliceStart = cpu.retired();
                return threadBody == null ? 0 : threadBody.run(c, budget);
            }

            @Override
            public boolean runnable() {
                return threadBody != null && threadBody.runnable();
            }

            @Override
            public void scheduledIn(PhysicalCpu c) {
                Vcpu.this.scheduledIn();
            }
        });
        this.lbr = new GuestLbr(this, vm.lbrPolicy());
        this.pmu = new VPmu(this);
        this.apic = new LocalApic(this, null);
        this.msrs = new VcpuMsrs(this);
        cpu.setMsrBus(msrs);
        // What userspace gets from KVM_GET_SUPPORTED_CPUID and passes on: the model's leaves with the
        // PMU version capped at 2 (cpuid.c: min(cap.version, 2)), the legacy vPMU KVM emulates.
        // A VMM may still set a higher version with setCpuid; then KVM's freeze emulation is off (intel_pmu_deliver_pmi checks 1 < version < 4).
        cpu.setCpuid(CpuidTable.forModel(model, index, true, vm.guestLbr() && model.hasPdcm())
                .withPmuVersionAtMost(VPmu.VERSION));
        if (vm.guestLbr()) {
            lbr.policy.init(lbr);
        }
    }

    /** Instructions retired when the current host slice began: trace times inside a slice count from it. */
    private long retiredAtSliceStart;

    /** True when the trace takes events of {@code c} (test it before building the event's arguments). */
    boolean tracing(Tracer.Category c) {
        return vm.kvm().host().tracer().on(c);
    }

    /** An event on this vCPU's timeline at the current guest instruction; {@code args} are JSON members or null. */
    void trace(Tracer.Category c, String name, String args) {
        PhysicalCpu pc = pcpu();
        long now = pc == null ? 0 : pc.clock() + (cpu.retired() - retiredAtSliceStart);
        vm.kvm().host().tracer().instant(c, name, Tracer.GUEST, index, now, args);
    }

    public Vm vm() {
        return vm;
    }

    public int index() {
        return index;
    }

    public CpuModel model() {
        return model;
    }

    /** Register state (what KVM_GET_REGS/KVM_SET_REGS/KVM_GET_SREGS reach). */
    public Cpu cpu() {
        return cpu;
    }

    /** The host thread that runs this vCPU. */
    public Task thread() {
        return thread;
    }

    /** What the vCPU thread does when the host scheduler runs it (the VMM's run loop). */
    public void setThreadBody(TaskBody body) {
        threadBody = body;
    }

    /** The physical CPU the vCPU thread runs or last ran on. */
    public PhysicalCpu pcpu() {
        return thread.cpu();
    }

    public boolean hasRun() {
        return hasRun;
    }

    public LbrStats stats() {
        return lbr.stats.snapshot(thread.lbrContext().counts().totals());
    }

    /** The guest-LBR state KVM keeps for this vCPU. */
    public GuestLbr guestLbr() {
        return lbr;
    }

    /** KVM_SET_CPUID2. */
    public void setCpuid(CpuidTable table) {
        cpu.setCpuid(table);
    }

    /** KVM_GET_MSRS for one MSR. */
    public long getMsr(int index) throws KvmException {
        loadForLbrMsrAccess(index);
        return msrs.hostRead(index);
    }

    /** KVM_SET_MSRS for one MSR. */
    public void setMsr(int index, long value) throws KvmException {
        loadForLbrMsrAccess(index);
        msrs.hostWrite(index, value);
    }

    /**
     * vcpu_load: a vCPU ioctl runs on the vCPU thread, so a host-initiated LBR MSR access (which
     * intel_pmu_handle_lbr_msrs_access treats like a guest one: no host_initiated case) creates the guest LBR
     * event while the thread is current, its first-add reset comes before the write, and perf saves and
     * restores the value from then on. Only LBR MSRs switch the thread in here, so other MSR ioctls and
     * monitor queries do not perturb the host schedule.
     */
    private void loadForLbrMsrAccess(int index) {
        if (vm.guestLbr() && lbr.isLbrMsr(index)) {
            vm.kvm().host().ensureRunning(thread);
        }
    }

    private void scheduledIn() {
        lbr.stats.contextSwitches++;
        if (vm.guestLbr()) {
            lbr.policy.scheduledIn(lbr);
        }
    }

    /** KVM_RUN with an instruction budget (the rest of the thread's time slice). */
    public VcpuExit run(long budget) {
        vm.kvm().host().ensureRunning(thread);
        hasRun = true;
        if (vm.guestLbr()) {
            lbr.policy.beforeEntry(lbr);
        }
        pmu.sync();
        long limit = Math.min(budget, pmu.instructionsUntilOverflow()); // stop exactly at a counter's overflow
        enterGuest();
        long before = cpu.retired();
        CpuExit e;
        try {
            e = cpu.run(limit);
        } finally {
            lbr.stats.instructions += cpu.retired() - before;
            exitGuest();
            pmu.sync();
        }
        ExitReason reason = switch (e) {
            case BUDGET -> ExitReason.PREEMPTION;
            case STOPPED -> ExitReason.STOP;
            case IO_OUT, IO_IN -> ExitReason.IO;
            case HLT -> ExitReason.HLT;
            case SHUTDOWN -> ExitReason.SHUTDOWN;
            case SYSCALL -> ExitReason.SYSCALL;
            case INTERNAL_ERROR -> ExitReason.INTERNAL_ERROR;
        };
        lbr.stats.exit(reason);
        if (tracing(Tracer.Category.EXIT)) {
            trace(Tracer.Category.EXIT, reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), "\"rip\":\"0x" + Long.toHexString(cpu.rip()) + "\"");
        }
        if (vm.guestLbr()) {
            lbr.policy.afterExit(lbr);
        }
        return switch (e) {
            case BUDGET -> PREEMPTED;
            case STOPPED -> STOPPED;
            case IO_OUT -> {
                byte[] string = cpu.ioString();
                yield string == null ? new VcpuExit.Io(false, cpu.ioPort(), cpu.ioSize(), cpu.ioValue())
                        : new VcpuExit.IoOutString(cpu.ioPort(), cpu.ioSize(), string);
            }
            case IO_IN -> new VcpuExit.Io(true, cpu.ioPort(), cpu.ioSize(), 0);
            case HLT -> HLT;
            case SHUTDOWN -> new VcpuExit.Shutdown(cpu.shutdownReason());
            case SYSCALL -> SYSCALL;
            case INTERNAL_ERROR -> new VcpuExit.InternalError(cpu.shutdownReason());
        };
    }

    /** VM entry: the guest DEBUGCTL (VMCS) becomes the physical one; the LBR records while LBR is set. */
    private void enterGuest() {
        inGuest = true;
        loadPhysicalDebugctl(msrs.debugctl());
        attachObservers();
    }

    /** The branch observers: the tracer and, while a branch event counts, the vPMU. */
    private void attachObservers() {
        cpu.setBranchCounter(pmu.fastBranchCounter());
        BranchListener t = tracer;
        BranchListener p = pmu.countsBranches() ? pmu : null;
        if (t != null && p != null) {
            cpu.setBranchListener(new BranchListener() {
                @Override
                public void onBranch(long from, long to, dev.lbrvmm.vmm.cpu.BranchKind kind, int cpl) {
                    p.onBranch(from, to, kind, cpl);
                    t.onBranch(from, to, kind, cpl);
                }

                @Override
                public void onNotTaken(long from) {
                    p.onNotTaken(from);
                    t.onNotTaken(from);
                }
            });
        } else {
            cpu.setBranchListener(t != null ? t : p);
        }
    }

    /** The guest reprogrammed its PMU: branch counting may have started or stopped. */
    void pmuProgrammed() {
        if (inGuest) {
            attachObservers();
        }
    }

    public VPmu pmu() {
        return pmu;
    }

    /** VM exit: hardware clears DEBUGCTL; nothing the host does next is recorded for the guest. */
    private void exitGuest() {
        inGuest = false;
        cpu.setLbrUnit(null);
        LbrUnit u = pcpu().lbr();
        if (u != null) {
            u.setDebugctl(0);
        }
    }

    private void loadPhysicalDebugctl(long value) {
        LbrUnit u = pcpu().lbr();
        if (u == null) {
            return;
        }
        u.setClock(cpu);
        u.setDebugctl(value);
        cpu.setLbrUnit((value & DebugCtl.LBR) != 0 ? u : null);
    }

    /** A guest DEBUGCTL write was accepted: it takes effect at once when the guest is running. */
    void debugctlWritten(long value) {
        if (inGuest) {
            loadPhysicalDebugctl(value);
        }
        if (vm.guestLbr()) {
            lbr.policy.debugctlWritten(lbr, value);
        }
    }

    /**
     * Injects a guest PMI (kvm_pmu_deliver_pmi) through the guest IDT at {@code vector}. First, as
     * KVM does for legacy (version 2-3) vPMUs with guest LBR (intel_pmu_legacy_freezing_lbrs_on_pmi): if DEBUGCTL has
     * FREEZE_LBRS_ON_PMI, LBR is cleared in the guest's DEBUGCTL, freezing the stack; the guest must
     * set it again. Version-4 LBR_FRZ is not emulated, as in KVM. Returns false if the guest shut
     * down because the vector could not be delivered.
     */
    public boolean deliverPmi(int vector) {
        if (tracing(Tracer.Category.PMI)) {
            trace(Tracer.Category.PMI, "pmi", "\"vector\":" + vector);
        }
        freezeForPmi();
        return cpu.injectInterrupt(vector);
    }

    /** KVM's legacy freeze-on-PMI emulation (intel_pmu_legacy_freezing_lbrs_on_pmi), done before every guest PMI. */
    void freezeForPmi() {
        int version = cpu.cpuid().pmuVersion();
        if (vm.guestLbr() && version > 1 && version < 4 && (msrs.debugctl() & DebugCtl.FREEZE_LBRS_ON_PMI) != 0) {
            msrs.freezeLbr();
        }
    }

    /** Supplies the data of an IN exit (KVM's run->io data). */
    public void completeIn(long value) {
        cpu.completeIn(value);
    }

    /** Asks a running vCPU to return with {@link VcpuExit.Stopped} (any thread). */
    public void kick() {
        cpu.requestStop();
    }

    /** vCPU reset: architectural state and KVM's LBR state (the event is released, intel_pmu_reset). */
    /**
     * Gives this vCPU a local APIC page (xAPIC mode) and the bus behind it for other physical
     * addresses outside RAM; with it the vCPU runs under architectural control (a Multiboot boot).
     */
    public LocalApic attachLocalApic(MmioBus unclaimed) {
        apic.setUnclaimed(unclaimed);
        cpu.setMmioBus(apic);
        return apic;
    }

    public LocalApic apic() {
        return apic;
    }

    public void reset() {
        cpu.reset();
        apic.reset();
        msrs.reset();
        pmu.reset();
        lbr.policy.reset(lbr);
        lbr.resetState();
    }

    void destroy() {
        lbr.reportSuppressed();
        lbr.policy.reset(lbr);
        threadBody = null;
    }

    VcpuMsrs msrs() {
        return msrs;
    }

    /**
     * The LBR stack as the guest would read it now: the physical LBR if this vCPU thread is the one
     * on its CPU (or nothing else ran since), else the copy saved for it (by perf or the eager
     * design). Empty when the host has no LBR.
     */
    public Optional<LbrSnapshot> lbrSnapshot() {
        PhysicalCpu c = pcpu();
        if (c == null || c.lbr() == null || !model.hasLbr()) {
            return Optional.empty();
        }
        TaskLbrContext ctx = thread.lbrContext();
        if (c.current() != thread && ctx.valid()) {
            int n = model.lbrDepth();
            long[][] raw = new long[3][n];
            for (int k = 0; k < n; k++) {
                int i = (ctx.savedTos() - k) & (n - 1);
                for (int p = 0; p < 3; p++) {
                    raw[p][i] = ctx.saved()[p][k];
                }
            }
            return Optional.of(LbrUnit.decode(model, raw, ctx.savedTos(), msrs.debugctl(), ctx.savedLbrSelect()));
        }
        if (c.current() != thread && lbr.eagerSaved != null) {
            return Optional.of(LbrUnit.decode(model, lbr.eagerSaved, lbr.eagerTos, msrs.debugctl(), lbr.eagerSelect));
        }
        return Optional.of(c.lbr().snapshot());
    }

    /** Guest DEBUGCTL as KVM keeps it (the VMCS field). */
    public long guestDebugctl() {
        return msrs.debugctl();
    }

    /** An extra observer of every branch the guest takes (traces, tests); null removes it. */
    public void setBranchTracer(BranchListener t) {
        tracer = t;
        if (inGuest) {
            attachObservers();
        }
    }
}
