package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.GuestMemory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A VM: guest memory, per-VM capabilities and the vCPUs. */
public final class Vm {
    private final Kvm kvm;
    private final GuestMemory memory;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private boolean guestLbr;
    private GuestLbrPolicy lbrPolicy = new GuestLbrPolicy.Lazy();
    private CostTable costs = CostTable.DEFAULT;
    private boolean destroyed;
    private volatile KvmEvents events = KvmEvents.NONE;

    Vm(Kvm kvm, long memoryBytes) {
        this.kvm = kvm;
        this.memory = new GuestMemory(memoryBytes);
    }

    public Kvm kvm() {
        return kvm;
    }

    public GuestMemory memory() {
        return memory;
    }

    public List<Vcpu> vcpus() {
        return Collections.unmodifiableList(vcpus);
    }

    /** True once KVM_CAP_X86_GUEST_LBR has been enabled. */
    public boolean guestLbr() {
        return guestLbr;
    }

    /**
     * KVM_ENABLE_CAP on the VM. For {@link Capability#X86_GUEST_LBR}, {@code args[0]} is 1 to enable
     * and 0 to disable (v4+ semantics) and {@code guestModel} is the CPU model the vCPUs will have;
     * enabling is refused if the host has no LBR, the guest's LBR geometry (depth, MSR bases,
     * format) differs from the host's, or vCPUs already exist (the never-merged KVM_CAP_X86_GUEST_LBR ABI; docs/design.md).
     */
    public void enableCap(Capability cap, long enable, CpuModel guestModel) throws KvmException {
        if (!vcpus.isEmpty()) {
            throw new KvmException("EINVAL", cap + " must be enabled before the first vCPU is created");
        }
        if (enable == 0) {
            guestLbr = false;
            return;
        }
        CpuModel host = kvm.hostModel();
        if (!host.hasLbr()) {
            throw new KvmException("EINVAL", "the host CPU (" + host.name() + ") has no model-specific LBR to give the guest");
        }
        if (!guestModel.hasLbr() || guestModel.lbrDepth() != host.lbrDepth() || guestModel.fromBase() != host.fromBase()
                || guestModel.toBase() != host.toBase() || guestModel.infoBase() != host.infoBase()
                || guestModel.lbrFormat() != host.lbrFormat()) {
            throw new KvmException("EINVAL", String.format(
                    "guest CPU model %s has LBR geometry %s but the host (%s) has %s; guest LBR needs them equal",
                    guestModel.name(), geometry(guestModel), host.name(), geometry(host)));
        }
        guestLbr = true;
    }

    private static String geometry(CpuModel m) {
        if (!m.hasLbr()) {
            return "none";
        }
        return String.format("{depth %d, FROM 0x%x, TO 0x%x, INFO %s, format %d}", m.lbrDepth(), m.fromBase(), m.toBase(),
                m.infoBase() == 0 ? "none" : String.format("0x%x", m.infoBase()), m.lbrFormat());
    }

    /** The guest-LBR policy of this VM; set before vCPUs are created. */
    public void setLbrPolicy(GuestLbrPolicy policy) {
        if (!vcpus.isEmpty()) {
            throw new IllegalStateException("the LBR policy must be chosen before the first vCPU is created");
        }
        lbrPolicy = policy;
    }

    public GuestLbrPolicy lbrPolicy() {
        return lbrPolicy;
    }

    public void setEventListener(KvmEvents e) {
        events = e == null ? KvmEvents.NONE : e;
    }

    public KvmEvents events() {
        return events;
    }

    public void setCosts(CostTable c) {
        costs = c;
    }

    public CostTable costs() {
        return costs;
    }

    /** KVM_CREATE_VCPU: the vCPU's thread may run on every host CPU. */
    public Vcpu createVcpu(CpuModel model) {
        return createVcpu(model, kvm.host().allCpus());
    }

    /** KVM_CREATE_VCPU with the vCPU thread's CPU affinity (bit i = host CPU i). */
    public Vcpu createVcpu(CpuModel model, long affinity) {
        Vcpu v = new Vcpu(this, vcpus.size(), model, affinity);
        vcpus.add(v);
        return v;
    }

    /** The accounting of all vCPUs. */
    public LbrStats stats() {
        LbrStats s = LbrStats.NONE;
        for (Vcpu v : vcpus) {
            s = s.plus(v.stats());
        }
        return s;
    }

    /**
     * Tears the VM down: every vCPU drops its guest LBR event. Afterwards no perf event of this VM
     * may remain on the host; one that does is a defect and is reported as such.
     */
    public void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        for (Vcpu v : vcpus) {
            v.destroy();
        }
        for (var e : kvm.host().perf().events()) {
            for (Vcpu v : vcpus) {
                if (e.task() == v.thread()) {
                    throw new IllegalStateException("guest LBR event leaked after VM teardown: " + e.describe());
                }
            }
        }
    }
}
