package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.host.Host;

/**
 * The /dev/kvm of the model: system-level queries and VM creation on a host. Guest LBR is only
 * possible where the host CPU has a model-specific LBR.
 */
public final class Kvm {
    private final Host host;

    public Kvm(Host host) {
        this.host = host;
    }

    /** A KVM on a one-CPU host of the given model (for tools and tests that need no host tasks). */
    public Kvm(CpuModel hostModel) {
        this(new Host(1, hostModel, 100_000));
    }

    public Host host() {
        return host;
    }

    public CpuModel hostModel() {
        return host.cpus().get(0).model();
    }

    /**
     * KVM_CHECK_EXTENSION. For {@link Capability#X86_GUEST_LBR}: 0 when the host has no
     * model-specific LBR, else the size of the LBR description struct ({nr, tos, from, to, info}
     * as five u32, as in the v8 series).
     */
    public int checkExtension(Capability cap) {
        return switch (cap) {
            case X86_GUEST_LBR -> hostModel().hasLbr() ? 5 * Integer.BYTES : 0;
        };
    }

    public Vm createVm(long memoryBytes) {
        return new Vm(this, memoryBytes);
    }
}
