package dev.lbrvmm.vmm.kvm;

/** Guest-LBR happenings KVM reports to whoever listens (the monitor). */
public interface KvmEvents {
    /** The vCPU's LBR MSRs were passed through ({@code on}) or intercepted again. */
    void lbrPassthrough(int vcpu, boolean on);

    /** The host holds the LBR: the vCPU's LBR accesses read 0 and lose writes ("fail to passthrough LBR"). */
    void lbrReclaimed(int vcpu);

    KvmEvents NONE = new KvmEvents() {
        @Override
        public void lbrPassthrough(int vcpu, boolean on) {
        }

        @Override
        public void lbrReclaimed(int vcpu) {
        }
    };
}
