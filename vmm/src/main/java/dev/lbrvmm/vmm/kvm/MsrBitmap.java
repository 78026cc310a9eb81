package dev.lbrvmm.vmm.kvm;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * The VMX MSR bitmap of a vCPU, reduced to what matters here: which MSRs the guest reaches
 * directly (pass-through, read and write) instead of exiting to KVM. Everything starts intercepted.
 */
public final class MsrBitmap {
    private final Set<Integer> passthrough = new HashSet<>();

    public boolean passthrough(int index) {
        return passthrough.contains(index);
    }

    void allow(Collection<Integer> indices) {
        passthrough.addAll(indices);
    }

    void intercept(Collection<Integer> indices) {
        passthrough.removeAll(indices);
    }

    public int passthroughCount() {
        return passthrough.size();
    }
}
