package dev.lbrvmm.vmm.kvm;

import java.util.BitSet;
import java.util.Collection;

/**
 * The VMX MSR bitmap of a vCPU, reduced to what matters here: which MSRs the guest reaches
 * directly (pass-through, read and write) instead of exiting to KVM. Everything starts
 * intercepted. Like the hardware bitmap it covers MSRs 0-0x1FFF and 0xC0000000-0xC0001FFF; any
 * other MSR always exits.
 */
public final class MsrBitmap {
    private static final int LOW_END = 0x2000;
    private static final int HIGH_BASE = 0xC000_0000;

    private final BitSet low = new BitSet(LOW_END);
    private final BitSet high = new BitSet(LOW_END);

    public boolean passthrough(int index) {
        if (index >= 0 && index < LOW_END) {
            return low.get(index);
        }
        int h = index - HIGH_BASE;
        return h >= 0 && h < LOW_END && high.get(h);
    }

    void allow(Collection<Integer> indices) {
        for (int i : indices) {
            set(i, true);
        }
    }

    void intercept(Collection<Integer> indices) {
        for (int i : indices) {
            set(i, false);
        }
    }

    private void set(int index, boolean pass) {
        if (index >= 0 && index < LOW_END) {
            low.set(index, pass);
        } else if (index - HIGH_BASE >= 0 && index - HIGH_BASE < LOW_END) {
            high.set(index - HIGH_BASE, pass);
        } else if (pass) {
            throw new IllegalArgumentException(String.format("MSR 0x%x lies outside the VMX MSR bitmap", index));
        }
    }

    public int passthroughCount() {
        return low.cardinality() + high.cardinality();
    }
}
