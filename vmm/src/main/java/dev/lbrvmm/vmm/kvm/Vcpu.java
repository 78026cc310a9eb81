package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.CpuExit;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuidTable;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.cpu.LbrUnit;
import dev.lbrvmm.vmm.cpu.BranchListener;
import java.util.Optional;

/** A vCPU: the interpreter core plus the hypervisor's MSR routing. */
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
    /** The physical LBR of the logical CPU this vCPU runs on (null when the model has none). */
    private final LbrUnit lbr;
    private BranchListener tracer;
    private boolean hasRun;

    Vcpu(Vm vm, int index, CpuModel model) {
        this.vm = vm;
        this.index = index;
        this.model = model;
        this.cpu = new Cpu(index, vm.memory());
        this.lbr = model.hasLbr() ? new LbrUnit(model, cpu) : null;
        this.msrs = new VcpuMsrs(this);
        cpu.setMsrBus(msrs);
        cpu.setCpuid(CpuidTable.forModel(model, index, true, vm.guestLbr() && model.hasPdcm()));
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

    /** True once {@link #run(long)} has been called (feature MSRs become immutable). */
    public boolean hasRun() {
        return hasRun;
    }

    /** KVM_SET_CPUID2. */
    public void setCpuid(CpuidTable table) {
        cpu.setCpuid(table);
    }

    /** KVM_GET_MSRS for one MSR. */
    public long getMsr(int index) throws KvmException {
        return msrs.hostRead(index);
    }

    /** KVM_SET_MSRS for one MSR. */
    public void setMsr(int index, long value) throws KvmException {
        msrs.hostWrite(index, value);
    }

    /** KVM_RUN with an instruction budget (the time slice). */
    public VcpuExit run(long budget) {
        hasRun = true;
        CpuExit e = cpu.run(budget);
        return switch (e) {
            case BUDGET -> PREEMPTED;
            case STOPPED -> STOPPED;
            case IO_OUT -> new VcpuExit.Io(false, cpu.ioPort(), cpu.ioSize(), cpu.ioValue());
            case IO_IN -> new VcpuExit.Io(true, cpu.ioPort(), cpu.ioSize(), 0);
            case HLT -> HLT;
            case SHUTDOWN -> new VcpuExit.Shutdown(cpu.shutdownReason());
            case SYSCALL -> SYSCALL;
            case INTERNAL_ERROR -> new VcpuExit.InternalError(cpu.shutdownReason());
        };
    }

    /** Supplies the data of an IN exit (KVM's run->io data). */
    public void completeIn(long value) {
        cpu.completeIn(value);
    }

    /** Asks a running vCPU to return with {@link VcpuExit.Stopped} (any thread). */
    public void kick() {
        cpu.requestStop();
    }

    VcpuMsrs msrs() {
        return msrs;
    }

    LbrUnit lbrUnit() {
        return lbr;
    }

    /** The LBR stack as it stands (empty when the CPU model has no LBR). */
    public Optional<LbrSnapshot> lbrSnapshot() {
        return lbr == null ? Optional.empty() : Optional.of(lbr.snapshot());
    }

    /** Guest DEBUGCTL as KVM keeps it (the VMCS field). */
    public long guestDebugctl() {
        return msrs.debugctl();
    }

    /**
     * An extra observer of every branch (for traces and tests), composed with the LBR unit.
     * Null removes it.
     */
    public void setBranchTracer(BranchListener t) {
        tracer = t;
        attachListeners();
    }

    /**
     * Loads the guest's DEBUGCTL into the processor (what VM entry does with the VMCS value) and
     * attaches the LBR unit to the branch hook only while it records, so LBR off costs nothing.
     */
    void loadDebugctl(long value) {
        if (lbr != null) {
            lbr.setDebugctl(value);
        }
        attachListeners();
    }

    private void attachListeners() {
        cpu.setLbrUnit(lbr != null && lbr.recording() ? lbr : null);
        cpu.setBranchListener(tracer);
    }

}
