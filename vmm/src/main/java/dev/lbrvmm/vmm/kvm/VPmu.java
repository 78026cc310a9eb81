package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.BranchCounter;
import dev.lbrvmm.vmm.cpu.BranchKind;
import dev.lbrvmm.vmm.cpu.BranchListener;
import dev.lbrvmm.vmm.cpu.BranchPredictor;
import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.CpuFault;
import dev.lbrvmm.vmm.cpu.Msr;

/**
 * A vCPU's architectural PMU, version 2 (KVM caps the legacy vPMU there): the model's
 * general-purpose counters with IA32_PERFEVTSELx, three fixed counters with IA32_FIXED_CTR_CTRL,
 * IA32_PERF_GLOBAL_CTRL/STATUS/OVF_CTRL, and the x2APIC LVT performance-counter entry that turns
 * an overflow into a PMI.
 *
 * <p>Events: 0xC0 instructions retired, 0xC4 branch instructions retired (taken or not), 0xC5
 * mispredicted branches (the vPMU's own {@link BranchPredictor}, the model the LBR uses), 0x3C
 * core cycles (cycles here = retired instructions, CPI 1). Fixed counters: instructions, core
 * cycles, reference cycles. Counting is exact: instruction counts come from the retired count
 * and the run budget stops at an instruction counter's overflow; branch events are counted by
 * the branch hook, attached only while such an event counts. The USR/OS filter of instruction
 * counters applies to the CPL at VM entry (a CPL change inside one run is not split out).
 * Counter writes take bits 31:0 sign-extended to the counter width, as without full-width writes.
 */
public final class VPmu implements BranchListener {
    /** The architectural PMU version KVM offers guests (KVM_GET_SUPPORTED_CPUID caps leaf 0xA there). */
    public static final int VERSION = 2;
    public static final int EVT_INSTRUCTIONS = 0xC0, EVT_BRANCHES = 0xC4, EVT_MISPREDICTS = 0xC5, EVT_CYCLES = 0x3C;
    private static final long USR = 1L << 16, OS = 1L << 17, INT = 1L << 20, EN = 1L << 22;
    private static final long LVT_MASKED = 1L << 16;
    private static final int FIXED = 3;

    private final Vcpu vcpu;
    private final int gp;
    private final long gpMask;
    private final long fixedMask;
    private final long[] selector;
    /** Counter values; for instruction/cycle counters the value at {@link #instrBase}. */
    private final long[] gpValue;
    private final long[] fixedValue = new long[FIXED];
    private long fixedCtrl;
    private long globalCtrl;
    private long globalStatus;
    private long lvtPmi = LVT_MASKED;
    private long instrBase;
    private final BranchPredictor predictor = new BranchPredictor();
    private long pmis;
    /**
     * Branch-counting fast path, taken when every counting branch event is 0xC4 at all CPLs (as
     * perf programs it): no listener on the branch hook, only a {@link BranchCounter}, whose count
     * is added to the counters when someone looks (sync) or when it reaches the nearest overflow
     * (its alarm), so the PMI still comes at the exact branch.
     */
    private boolean branchFastPath;
    private int fastBranchCounters;
    private final BranchCounter branchCounter = new BranchCounter(this::flushBranches);

    VPmu(Vcpu vcpu) {
        this.vcpu = vcpu;
        var m = vcpu.model();
        this.gp = m.pmuVersion() > 0 ? m.gpCounters() : 0;
        this.gpMask = m.gpWidth() >= 64 || m.gpWidth() == 0 ? -1L : (1L << m.gpWidth()) - 1;
        this.fixedMask = m.fixedWidth() >= 64 || m.fixedWidth() == 0 ? -1L : (1L << m.fixedWidth()) - 1;
        this.selector = new long[gp];
        this.gpValue = new long[gp];
    }

    private Cpu cpu() {
        return vcpu.cpu();
    }

    public int gpCounters() {
        return gp;
    }

    public long pmis() {
        return pmis;
    }

    static boolean isPmuMsr(int i, int gp) {
        return (i >= Msr.IA32_PMC0 && i < Msr.IA32_PMC0 + gp) || (i >= Msr.IA32_PERFEVTSEL0 && i < Msr.IA32_PERFEVTSEL0 + gp)
                || (i >= Msr.IA32_FIXED_CTR0 && i < Msr.IA32_FIXED_CTR0 + FIXED) || i == Msr.IA32_FIXED_CTR_CTRL
                || i == Msr.IA32_PERF_GLOBAL_STATUS || i == Msr.IA32_PERF_GLOBAL_CTRL || i == Msr.IA32_PERF_GLOBAL_OVF_CTRL;
    }

    boolean handles(int index) {
        return cpu().cpuid().pmuVersion() > 0 && isPmuMsr(index, gp);
    }

    // ------------------------------------------------------------------ counting

    private boolean gpEnabled(int i) {
        return (selector[i] & EN) != 0 && (globalCtrl & (1L << i)) != 0;
    }

    private boolean fixedEnabled(int j) {
        return (fixedCtrl >> (4 * j) & 3) != 0 && (globalCtrl & (1L << (32 + j))) != 0;
    }

    private int event(int i) {
        return (int) (selector[i] & 0xFF);
    }

    private boolean countsAtCpl(long usrBit, long osBit, long bits, int cpl) {
        return cpl == 0 ? (bits & osBit) != 0 : (bits & usrBit) != 0;
    }

    private boolean instrCounter(int i) {
        return gpEnabled(i) && (event(i) == EVT_INSTRUCTIONS || event(i) == EVT_CYCLES) && countsAtCpl(USR, OS, selector[i], cpu().cpl());
    }

    private boolean fixedCounting(int j) {
        return fixedEnabled(j) && countsAtCpl(2, 1, fixedCtrl >> (4 * j), cpu().cpl());
    }

    /** Brings instruction/cycle counters up to the current retired count (and reports overflows). */
    void sync() {
        flushBranches();
        long now = cpu().retired();
        long delta = now - instrBase;
        instrBase = now;
        if (delta == 0) {
            return;
        }
        for (int i = 0; i < gp; i++) {
            if (instrCounter(i)) {
                add(i, delta);
            }
        }
        for (int j = 0; j < FIXED; j++) {
            if (fixedCounting(j)) {
                long before = fixedValue[j];
                fixedValue[j] = (before + delta) & fixedMask;
                if (Long.compareUnsigned(fixedValue[j], before) < 0) {
                    overflow(32 + j, (fixedCtrl >> (4 * j) & 8) != 0);
                }
            }
        }
    }

    private void add(int i, long n) {
        long before = gpValue[i];
        gpValue[i] = (before + n) & gpMask;
        if (Long.compareUnsigned(gpValue[i], before) < 0 || (n > 0 && gpValue[i] == 0)) {
            overflow(i, (selector[i] & INT) != 0);
        }
    }

    /** Instructions that may retire before an instruction counter overflows (the run budget limit). */
    long instructionsUntilOverflow() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < gp; i++) {
            if (instrCounter(i)) {
                min = Math.min(min, ((gpMask - gpValue[i]) & gpMask) + 1);
            }
        }
        for (int j = 0; j < FIXED; j++) {
            if (fixedCounting(j)) {
                min = Math.min(min, ((fixedMask - fixedValue[j]) & fixedMask) + 1);
            }
        }
        return min;
    }

    /** Whether the branch hook must report every branch here (the slow path: mispredicts or CPL filters). */
    boolean countsBranches() {
        if (branchFastPath) {
            return false;
        }
        for (int i = 0; i < gp; i++) {
            if (gpEnabled(i) && (event(i) == EVT_BRANCHES || event(i) == EVT_MISPREDICTS)) {
                return true;
            }
        }
        return false;
    }

    private void branchEvent(boolean mispredicted, int cpl) {
        for (int i = 0; i < gp; i++) {
            if (gpEnabled(i) && countsAtCpl(USR, OS, selector[i], cpl)) {
                int e = event(i);
                if (e == EVT_BRANCHES || (e == EVT_MISPREDICTS && mispredicted)) {
                    add(i, 1);
                }
            }
        }
    }

    @Override
    public void onBranch(long from, long to, BranchKind kind, int cpl) {
        branchEvent(predictor.taken(from, to, kind.ordinal()), cpl);
    }

    @Override
    public void onNotTaken(long from) {
        branchEvent(predictor.notTaken(from), cpu().cpl());
    }

    /** Adds the branches counted since the last flush to the fast-path counters (overflowing there, as on hardware). */
    private void flushBranches() {
        long n = branchCounter.take();
        if (n != 0) {
            for (int i = 0; i < gp; i++) {
                if ((fastBranchCounters & (1 << i)) != 0) {
                    add(i, n);
                }
            }
        }
        branchCounter.alarmAfter(branchesUntilFastOverflow());
    }

    /** The fast path's counter for the CPU's branch hook, or null when branch events need the slow path or none count. */
    BranchCounter fastBranchCounter() {
        return branchFastPath ? branchCounter : null;
    }

    private long branchesUntilFastOverflow() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < gp; i++) {
            if ((fastBranchCounters & (1 << i)) != 0) {
                min = Math.min(min, ((gpMask - gpValue[i]) & gpMask) + 1);
            }
        }
        return min;
    }

    /** After the guest reprogrammed the PMU: may branch events take the fast path? */
    private void configureBranchCounting() {
        flushBranches();
        int mask = 0;
        boolean fast = true;
        for (int i = 0; i < gp; i++) {
            if (!gpEnabled(i)) {
                continue;
            }
            if (event(i) == EVT_MISPREDICTS) {
                fast = false; // needs the predictor on every branch
            } else if (event(i) == EVT_BRANCHES) {
                if ((selector[i] & (USR | OS)) != (USR | OS)) {
                    fast = false; // needs the CPL of every branch
                }
                mask |= 1 << i;
            }
        }
        branchFastPath = fast && mask != 0;
        fastBranchCounters = branchFastPath ? mask : 0;
        flushBranches(); // arms (or disarms) the alarm for the new configuration
    }

    private void overflow(int bit, boolean pmi) {
        globalStatus |= 1L << bit;
        if (pmi) {
            pmi();
        }
    }

    /** The PMI: through the LVT entry if unmasked; KVM's legacy freeze first (intel_pmu_deliver_pmi). */
    private void pmi() {
        if ((lvtPmi & LVT_MASKED) != 0) {
            return;
        }
        pmis++;
        lvtPmi |= LVT_MASKED; // delivered: masked until the handler unmasks it (as Linux expects)
        vcpu.freezeForPmi();
        cpu().raiseInterrupt((int) (lvtPmi & 0xFF));
    }

    // ------------------------------------------------------------------ MSRs

    long read(int index) {
        sync();
        if (index >= Msr.IA32_PMC0 && index < Msr.IA32_PMC0 + gp) {
            return gpValue[index - Msr.IA32_PMC0];
        }
        if (index >= Msr.IA32_PERFEVTSEL0 && index < Msr.IA32_PERFEVTSEL0 + gp) {
            return selector[index - Msr.IA32_PERFEVTSEL0];
        }
        if (index >= Msr.IA32_FIXED_CTR0 && index < Msr.IA32_FIXED_CTR0 + FIXED) {
            return fixedValue[index - Msr.IA32_FIXED_CTR0];
        }
        return switch (index) {
            case Msr.IA32_FIXED_CTR_CTRL -> fixedCtrl;
            case Msr.IA32_PERF_GLOBAL_CTRL -> globalCtrl;
            case Msr.IA32_PERF_GLOBAL_STATUS -> globalStatus;
            case Msr.IA32_PERF_GLOBAL_OVF_CTRL -> 0;
            default -> throw CpuFault.gp();
        };
    }

    void write(int index, long v) {
        sync();
        if (index >= Msr.IA32_PMC0 && index < Msr.IA32_PMC0 + gp) {
            gpValue[index - Msr.IA32_PMC0] = ((long) (int) v) & gpMask; // bits 31:0, sign-extended
        } else if (index >= Msr.IA32_PERFEVTSEL0 && index < Msr.IA32_PERFEVTSEL0 + gp) {
            if ((v & 0xFFFF_FFFF_0020_0000L) != 0) { // reserved bits and AnyThread
                throw CpuFault.gp();
            }
            selector[index - Msr.IA32_PERFEVTSEL0] = v;
        } else if (index >= Msr.IA32_FIXED_CTR0 && index < Msr.IA32_FIXED_CTR0 + FIXED) {
            fixedValue[index - Msr.IA32_FIXED_CTR0] = ((long) (int) v) & fixedMask;
        } else {
            switch (index) {
                case Msr.IA32_FIXED_CTR_CTRL -> {
                    if ((v & ~0xBBBL) != 0) {
                        throw CpuFault.gp();
                    }
                    fixedCtrl = v;
                }
                case Msr.IA32_PERF_GLOBAL_CTRL -> {
                    long valid = ((1L << gp) - 1) | (7L << 32);
                    if ((v & ~valid) != 0) {
                        throw CpuFault.gp();
                    }
                    globalCtrl = v;
                }
                case Msr.IA32_PERF_GLOBAL_OVF_CTRL -> globalStatus &= ~v;
                default -> throw CpuFault.gp(); // GLOBAL_STATUS is read-only
            }
        }
        configureBranchCounting();
        vcpu.pmuProgrammed();
    }

    public long lvtPmi() {
        return lvtPmi;
    }

    void writeLvtPmi(long v) {
        if ((v & ~0x1_07FFL) != 0) {
            throw CpuFault.gp();
        }
        lvtPmi = v;
    }

    public long globalStatus() {
        return globalStatus;
    }

    public long globalCtrl() {
        return globalCtrl;
    }

    public long fixedCtrl() {
        return fixedCtrl;
    }

    public long selector(int i) {
        return selector[i];
    }

    public long gpValue(int i) {
        sync();
        return gpValue[i];
    }

    public long fixedValue(int j) {
        sync();
        return fixedValue[j];
    }

    void reset() {
        java.util.Arrays.fill(selector, 0);
        java.util.Arrays.fill(gpValue, 0);
        java.util.Arrays.fill(fixedValue, 0);
        fixedCtrl = globalCtrl = globalStatus = 0;
        lvtPmi = LVT_MASKED;
        instrBase = cpu().retired();
        fastBranchCounters = 0;
        branchCounter.take();
        configureBranchCounting();
    }
}
