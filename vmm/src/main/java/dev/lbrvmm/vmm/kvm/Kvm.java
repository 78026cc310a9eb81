package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.CpuModel;

/**
 * The /dev/kvm of the model: system-level queries and VM creation. The host CPU model is what
 * the physical machine is; guest LBR is only possible where it has a model-specific LBR.
 */
public final class Kvm {
    private final CpuModel host;

    public Kvm(CpuModel host) {
        this.host = host;
    }

    public CpuModel hostModel() {
        return host;
    }

    /**
     * KVM_CHECK_EXTENSION. For {@link Capability#X86_GUEST_LBR}: 0 when the host has no
     * model-specific LBR, else the size of the LBR description struct ({nr, tos, from, to, info}
     * as five u32, as in the v8 series).
     */
    public int checkExtension(Capability cap) {
        return switch (cap) {
            case X86_GUEST_LBR -> host.hasLbr() ? 5 * Integer.BYTES : 0;
        };
    }

    public Vm createVm(long memoryBytes) {
        return new Vm(this, memoryBytes);
    }
}
