package dev.lbrvmm.vmm.kvm;

/**
 * Per-VM capabilities of the KVM model. {@code X86_GUEST_LBR} is Wei Wang's never-merged
 * KVM_CAP_X86_GUEST_LBR; its number differed between versions of Wei Wang's series (173 in v6, 174 in v8,
 * 180 in Like Xu's v9); lbrvmm uses the v8 number.
 */
public enum Capability {
    X86_GUEST_LBR(174);

    public final int number;

    Capability(int number) {
        this.number = number;
    }
}
