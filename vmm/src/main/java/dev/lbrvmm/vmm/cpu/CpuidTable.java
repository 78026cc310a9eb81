package dev.lbrvmm.vmm.cpu;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPUID leaves a vCPU reports (what KVM_SET_CPUID installs). Built from a {@link CpuModel};
 * the hypervisor decides the PMU-related bits.
 */
public final class CpuidTable {
    /** CPUID.01H:ECX bit 15: IA32_PERF_CAPABILITIES exists. */
    public static final int ECX_PDCM = 1 << 15;
    private static final int ECX_POPCNT = 1 << 23;
    private static final int ECX_HYPERVISOR = 1 << 31;
    private static final int EDX_TSC = 1 << 4;
    private static final int EDX_MSR = 1 << 5;
    private static final int EDX_CMOV = 1 << 15;
    private static final int EBX7_BMI1 = 1 << 3;
    private static final int EDX_EXT_SYSCALL = 1 << 11;
    private static final int EDX_EXT_LM = 1 << 29;
    /** RDTSCP (the interpreter executes it on every model). */
    private static final int EDX_EXT_RDTSCP = 1 << 27;
    private static final int ECX_EXT_ABM = 1 << 5;

    private final Map<Long, int[]> leaves = new TreeMap<>();

    private static long key(int leaf, int subleaf) {
        return ((long) leaf << 32) | (subleaf & 0xFFFF_FFFFL);
    }

    /** CPUID.0AH EAX[7:0], cached: the MSR paths ask on every access (-1 = not computed since the last change). */
    private int pmuVersion = -1;

    public void set(int leaf, int subleaf, int eax, int ebx, int ecx, int edx) {
        leaves.put(key(leaf, subleaf), new int[] {eax, ebx, ecx, edx});
        pmuVersion = -1;
    }

    public void remove(int leaf) {
        leaves.keySet().removeIf(k -> (int) (k >>> 32) == leaf);
        pmuVersion = -1;
    }

    /** The leaf's registers (subleaf 0 when the leaf has no subleaves), or null when absent. */
    public int[] get(int leaf, int subleaf) {
        int[] v = leaves.get(key(leaf, subleaf));
        return v != null ? v : leaves.get(key(leaf, 0));
    }

    public boolean has(int leaf) {
        return get(leaf, 0) != null;
    }

    /** Writes EAX..EDX for CPUID(leaf, subleaf) into out; absent leaves read as zero. */
    public void lookup(int leaf, int subleaf, int[] out) {
        int[] v = get(leaf, subleaf);
        if (v == null) {
            out[0] = out[1] = out[2] = out[3] = 0;
        } else {
            System.arraycopy(v, 0, out, 0, 4);
        }
    }

    public CpuidTable copy() {
        CpuidTable t = new CpuidTable();
        leaves.forEach((k, v) -> t.leaves.put(k, v.clone()));
        return t;
    }

    /**
     * The leaves for a model: 0 (vendor), 1 (signature, APIC ID, features; PDCM iff {@code pdcm}),
     * 7, 0xA (architectural PMU; only when {@code pmu}), and the extended leaves for long mode.
     */
    public static CpuidTable forModel(CpuModel m, int apicId, boolean pmu, boolean pdcm) {
        CpuidTable t = new CpuidTable();
        byte[] v = m.vendor().getBytes(StandardCharsets.US_ASCII);
        int maxLeaf = pmu && m.pmuVersion() > 0 ? 0xA : 0x7;
        t.set(0, 0, maxLeaf, word(v, 0), word(v, 8), word(v, 4));
        int ecx = ECX_POPCNT | ECX_HYPERVISOR | (pdcm ? ECX_PDCM : 0);
        int ebx = (apicId << 24) | (1 << 16) | (8 << 8);
        t.set(1, 0, m.cpuidSignature(), ebx, ecx, EDX_TSC | EDX_MSR | EDX_CMOV);
        t.set(7, 0, 0, EBX7_BMI1, 0, 0);
        if (pmu && m.pmuVersion() > 0) {
            int eax = m.pmuVersion() | (m.gpCounters() << 8) | (m.gpWidth() << 16) | (7 << 24);
            int edx = m.pmuVersion() > 1 ? m.fixedCounters() | (m.fixedWidth() << 5) : 0;
            t.set(0xA, 0, eax, 0, 0, edx);
        }
        t.set(0x8000_0000, 0, 0x8000_0008, 0, 0, 0);
        t.set(0x8000_0001, 0, 0, 0, ECX_EXT_ABM, EDX_EXT_SYSCALL | EDX_EXT_RDTSCP | EDX_EXT_LM);
        t.set(0x8000_0008, 0, 0x3027, 0, 0, 0); // 39-bit physical, 48-bit linear addresses
        return t;
    }

    private static int word(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    /** PMU version from leaf 0xA, 0 when the leaf is absent. */
    public int pmuVersion() {
        if (pmuVersion < 0) {
            int[] a = get(0xA, 0);
            pmuVersion = a == null ? 0 : a[0] & 0xFF;
        }
        return pmuVersion;
    }

    /** Lowers CPUID.0AH EAX[7:0] (the PMU version) to at most {@code max}; returns this table. */
    public CpuidTable withPmuVersionAtMost(int max) {
        int[] a = get(0xA, 0);
        if (a != null && (a[0] & 0xFF) > max) {
            set(0xA, 0, (a[0] & ~0xFF) | max, a[1], a[2], a[3]);
        }
        return this;
    }

    public boolean pdcm() {
        int[] l1 = get(1, 0);
        return l1 != null && (l1[2] & ECX_PDCM) != 0;
    }

    /** Display family and model from leaf 1. */
    public int displayFamily() {
        int sig = get(1, 0)[0];
        int fam = (sig >> 8) & 0xF;
        return fam == 0xF ? fam + ((sig >> 20) & 0xFF) : fam;
    }

    public int displayModel() {
        int sig = get(1, 0)[0];
        int fam = (sig >> 8) & 0xF;
        int model = (sig >> 4) & 0xF;
        return (fam == 6 || fam == 0xF) ? model | (((sig >> 16) & 0xF) << 4) : model;
    }
}
