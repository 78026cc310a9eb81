package dev.lbrvmm.vmm.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * The model-specific LBR of one logical processor (SDM vol. 3B, "Last Branch Recording"; docs/design.md): a ring of
 * {FROM, TO[, INFO]} MSRs and a top-of-stack pointer, fed by the interpreter's branch hook while
 * DEBUGCTL.LBR is set.
 *
 * <p>Recording: each taken branch that LBR_SELECT does not suppress advances TOS modulo the depth
 * and writes the entry at the new TOS in the model's record format. In call-stack mode
 * (LBR_SELECT bit 9) a near return instead clears the entry at TOS and moves TOS back.
 * <b>Underflow</b> (not documented by Intel), chosen here: a return with nothing to pop still
 * clears the entry at TOS (already empty) and decrements TOS, so a later call overwrites the slot
 * below; readers stop at the first entry whose FROM is 0, as Linux does.
 *
 * <p>Cycle counts (formats 5, 6, 7): core clocks since the previous LBR update under this cost
 * model: every retired instruction costs 1 cycle and every mispredicted branch adds
 * {@link #MISPREDICT_PENALTY}; counts saturate at 0xFFFF.
 *
 * <p>MSR rules: indices past the depth, INFO MSRs on models without them and LBR_SELECT on models
 * without it are not LBR MSRs (#GP). FROM/TO writes must be sign-extended as the format lays them
 * out, LBR_SELECT reserved bits and LBR_INFO reserved bits (60:16) #GP. TOS writes keep the low
 * log2(depth) bits (not documented by Intel; chosen so the selftest's TOS = 7 works on every
 * model with 8 or more entries).
 */
public final class LbrUnit implements BranchListener {
    public static final int MISPREDICT_PENALTY = 20;
    /** LBR_SELECT bit 9: call-stack (LIFO) mode. */
    public static final long EN_CALLSTACK = 1L << 9;
    public static final long CPL_EQ_0 = 1, CPL_NEQ_0 = 1 << 1;
    /** Suppress bit for each BranchKind, by ordinal (MSR_LBR_SELECT bits). */
    private static final int[] SELECT_BIT = {2, 7, 6, 3, 4, 5, 8};

    private final CpuModel model;
    private final int depth;
    private final int mask;
    private final int fmt;
    /** All ones when the model has LBR_INFO MSRs, else 0 (the INFO slot of each entry stays 0). */
    private final long infoMask;
    /** Deepest model-specific LBR (32 entries, Skylake and later); the ring's index is kept below it. */
    private static final int MAX_DEPTH = 32;
    /** The entries interleaved, 4 longs each: FROM, TO, INFO, (padding), so a record is one array. */
    private final long[] ring;
    /** FROM/TO hold plain addresses (formats 1, 2, 5, 7): no flag bits to encode on the hot path. */
    private final boolean plain;
    private final BranchPredictor predictor = new BranchPredictor();
    /** The processor whose retired instructions drive the cycle model: whoever runs on this CPU now. */
    private Cpu cpu;
    private int tos;
    private long debugctl;
    private long lbrSelect;
    /** Per BranchKind ordinal: suppressed at CPL 0 (bit k) and at CPL > 0 (bit 8 + k). */
    private int suppressed;
    /**
     * What {@link #records} tests on every branch, kept from DEBUGCTL.LBR and LBR_SELECT so that it
     * is one load: bit k (CPL 0) or 8 + k (CPL > 0) set when kind k is recorded now.
     */
    private int recorded;
    private boolean callStack;
    /**
     * The cycle model's clock at the last LBR update less the misprediction penalties since: a
     * record's cycle count is the retired count minus this. One field, so a record reads and
     * writes one value and a misprediction subtracts its penalty from it.
     */
    private long cycleBase;


    /**
     * @param cpu the processor whose retired-instruction count drives the cycle model
     */
    public LbrUnit(CpuModel model, Cpu cpu) {
        if (!model.hasLbr()) {
            throw new IllegalArgumentException("CPU model " + model.name() + " has no model-specific LBR");
        }
        this.model = model;
        this.cpu = cpu;
        this.depth = model.lbrDepth();
        if (Integer.bitCount(depth) != 1 || depth > MAX_DEPTH) {
            throw new IllegalArgumentException("CPU model " + model.name() + ": an LBR of " + depth
                    + " entries; model-specific LBRs have a power of two up to " + MAX_DEPTH);
        }
        this.mask = depth - 1;
        this.fmt = model.recordFormat();
        this.infoMask = LbrFormat.hasInfoMsr(fmt) ? -1L : 0L;
        this.ring = new long[depth * 4];
        this.plain = fmt == LbrFormat.LIP || fmt == LbrFormat.EIP || fmt == LbrFormat.INFO || fmt == LbrFormat.INFO2;
    }

    public CpuModel model() {
        return model;
    }

    /** The interpreter now running on this logical CPU (its retired count clocks the cycle model). */
    public void setClock(Cpu running) {
        cpu = running;
    }

    public int depth() {
        return depth;
    }

    public int tos() {
        return tos;
    }

    public long debugctl() {
        return debugctl;
    }

    public long lbrSelect() {
        return lbrSelect;
    }

    /** Recording right now: DEBUGCTL.LBR set. */
    public boolean recording() {
        return (debugctl & DebugCtl.LBR) != 0;
    }

    /** Loads the DEBUGCTL value the processor runs with (at VM entry: the guest's). */
    public void setDebugctl(long value) {
        debugctl = value;
        updateRecorded();
    }

    /**
     * A performance-monitoring interrupt is requested: with FREEZE_LBRS_ON_PMI the processor clears
     * DEBUGCTL.LBR (legacy FREEZE_LBRS_ON_PMI). Returns the resulting DEBUGCTL.
     */
    public long performanceInterrupt() {
        if ((debugctl & DebugCtl.FREEZE_LBRS_ON_PMI) != 0) {
            debugctl &= ~DebugCtl.LBR;
            updateRecorded();
        }
        return debugctl;
    }

    // ------------------------------------------------------------------ recording

    @Override
    public void onNotTaken(long at) {
        penalized(predictor.notTaken(at));
    }

    @Override
    public void onBranch(long src, long dst, BranchKind kind, int cpl) {
        record(src, dst, kind.ordinal(), cpl);
    }

    /** The hot-path form of {@link #onBranch}: {@code kind} is a {@code BranchKind.K_*} constant. */
    public void record(long src, long dst, int kind, int cpl) {
        long count = cpu.instructionsAtBranch();
        switch (kind) {
            case BranchKind.K_CONDITIONAL -> conditional(src, dst, cpl, count);
            case BranchKind.K_NEAR_REL_JMP -> directJump(src, dst, cpl, count);
            case BranchKind.K_NEAR_IND_JMP -> indirectJump(src, dst, cpl, count);
            case BranchKind.K_NEAR_REL_CALL -> directCall(src, dst, cpl, count);
            case BranchKind.K_NEAR_IND_CALL -> indirectCall(src, dst, cpl, count);
            case BranchKind.K_NEAR_RET -> nearReturn(src, dst, cpl, count);
            default -> far(src, dst, cpl, count);
        }
    }

    // One entry per branch kind, each doing only what its kind needs (translated code calls the one
    // its branch is, so each call site inlines a short path; the interpreter comes through record).
    // {@code count}: the retired-instruction count at the branch (Cpu.instructionsAtBranch) that
    // clocks the cycle model, passed in so translated code need not keep it in the CPU per block.

    void conditional(long src, long dst, int cpl, long count) {
        boolean mispred = penalized(predictor.conditionalTaken(src));
        if (records(BranchKind.K_CONDITIONAL, cpl)) {
            append(src, dst, mispred, count);
        }
    }

    void directJump(long src, long dst, int cpl, long count) {
        if (records(BranchKind.K_NEAR_REL_JMP, cpl)) {
            append(src, dst, false, count);
        }
    }

    void indirectJump(long src, long dst, int cpl, long count) {
        boolean mispred = penalized(predictor.indirectJump(src, dst));
        if (records(BranchKind.K_NEAR_IND_JMP, cpl)) {
            append(src, dst, mispred, count);
        }
    }

    void directCall(long src, long dst, int cpl, long count) {
        predictor.directCall(src);
        if (records(BranchKind.K_NEAR_REL_CALL, cpl)) {
            append(src, dst, false, count);
        }
    }

    void indirectCall(long src, long dst, int cpl, long count) {
        boolean mispred = penalized(predictor.indirectCall(src, dst));
        if (records(BranchKind.K_NEAR_IND_CALL, cpl)) {
            append(src, dst, mispred, count);
        }
    }

    void nearReturn(long src, long dst, int cpl, long count) {
        boolean mispred = penalized(predictor.nearReturn(dst));
        if (!records(BranchKind.K_NEAR_RET, cpl)) {
            return;
        }
        if (callStack) { // the return pops its call's entry instead of recording
            clear(tos);
            tos = (tos - 1) & mask;
            return;
        }
        append(src, dst, mispred, count);
    }

    private void far(long src, long dst, int cpl, long count) {
        cycleBase -= MISPREDICT_PENALTY; // far transfers always count as mispredicted
        if (records(BranchKind.K_FAR, cpl)) {
            append(src, dst, true, count);
        }
    }

    /** A mispredicted branch costs {@link #MISPREDICT_PENALTY} cycles; returns {@code mispred}. */
    private boolean penalized(boolean mispred) {
        if (mispred) {
            cycleBase -= MISPREDICT_PENALTY;
        }
        return mispred;
    }

    /** DEBUGCTL.LBR set and LBR_SELECT does not suppress this kind at this CPL. */
    private boolean records(int kind, int cpl) {
        return (recorded & (1 << (cpl == 0 ? kind : kind + 8))) != 0;
    }

    private void updateRecorded() {
        recorded = (debugctl & DebugCtl.LBR) != 0 ? ~suppressed & 0x7F7F : 0;
    }

    /** Pushes a record at the next TOS, its cycle count the clock since the previous update. */
    private void append(long src, long dst, boolean mispred, long count) {
        long elapsed = count - cycleBase;
        cycleBase = count;
        // The clock is the running vCPU's retired count; after another vCPU (a lower count) ran on this
        // physical CPU the difference is negative. Hardware cycle counts never are: such a record gets 0
        // (an INFO value with the sign bit smeared over reserved bits made perf's restore #GP).
        long cycles = Math.min(Math.max(elapsed, 0L), 0xFFFFL);
        int t = (tos + 1) & mask & (MAX_DEPTH - 1); // the last AND changes nothing: it tells the JIT 0 <= t < 32
        tos = t;
        int at = t << 2;
        long[] r = ring;
        if (plain) {
            r[at] = src; // guest RIPs are canonical already
            r[at + 1] = dst;
        } else {
            r[at] = LbrFormat.encodeFrom(fmt, src, dst, mispred);
            r[at + 1] = LbrFormat.encodeTo(fmt, dst, (int) cycles);
        }
        r[at + 2] = ((mispred ? Long.MIN_VALUE : 0) | cycles) & infoMask; // INFO: MISPRED in bit 63, the cycle count
    }

    private void clear(int i) {
        ring[i << 2] = 0;
        ring[(i << 2) + 1] = 0;
        ring[(i << 2) + 2] = 0;
    }

    /** A slot holds a record when FROM or TO is non-zero (never-written and popped slots are all zero). */
    private boolean holdsRecord(int i) {
        return ring[i << 2] != 0 || ring[(i << 2) + 1] != 0;
    }

    /** RESET (SDM: the LBR MSRs are cleared at power-up and reset): DEBUGCTL, LBR_SELECT, TOS and every entry are zero. */
    public void reset() {
        for (int i = 0; i < depth; i++) {
            clear(i);
        }
        tos = 0;
        debugctl = 0;
        updateRecorded();
        setLbrSelect(0);
    }

    /** Zeroes FROM/TO/INFO only, keeping TOS (perf's intel_pmu_lbr_reset). */
    public void clearRecords() {
        for (int i = 0; i < depth; i++) {
            clear(i);
        }
    }

    private void setLbrSelect(long v) {
        lbrSelect = v;
        callStack = model.hasCallStack() && (v & EN_CALLSTACK) != 0;
        int s = 0;
        if (model.hasLbrSelect()) {
            for (int k = 0; k < SELECT_BIT.length; k++) {
                if ((v & (1L << SELECT_BIT[k])) != 0) {
                    s |= (1 << k) | (1 << (k + 8));
                }
            }
            if ((v & CPL_EQ_0) != 0) {
                s |= 0x7F;
            }
            if ((v & CPL_NEQ_0) != 0) {
                s |= 0x7F << 8;
            }
        }
        suppressed = s;
        updateRecorded();
    }

    // ------------------------------------------------------------------ MSR interface

    /** True when {@code index} names one of this model's LBR MSRs (LBR_SELECT, TOS, FROM/TO/INFO < depth). */
    public boolean isLbrMsr(int index) {
        if (index == Msr.MSR_LBR_TOS) {
            return true;
        }
        if (index == Msr.MSR_LBR_SELECT) {
            return model.hasLbrSelect();
        }
        return entry(index) >= 0;
    }

    /** Number of LBR MSRs a hypervisor would pass through for this model. */
    public List<Integer> msrIndices() {
        List<Integer> out = new ArrayList<>();
        if (model.hasLbrSelect()) {
            out.add(Msr.MSR_LBR_SELECT);
        }
        out.add(Msr.MSR_LBR_TOS);
        for (int i = 0; i < depth; i++) {
            out.add(model.fromBase() + i);
            out.add(model.toBase() + i);
            if (model.infoBase() != 0) {
                out.add(model.infoBase() + i);
            }
        }
        return out;
    }

    /** 0 for a FROM MSR, 1 for TO, 2 for INFO of entry e. */
    private int part(int index, int e) {
        return index - model.fromBase() == e ? 0 : index - model.toBase() == e ? 1 : 2;
    }

    /** Entry index for a FROM/TO/INFO MSR, or -1. */
    private int entry(int index) {
        int f = index - model.fromBase();
        if (f >= 0 && f < depth) {
            return f;
        }
        int t = index - model.toBase();
        if (t >= 0 && t < depth) {
            return t;
        }
        if (model.infoBase() != 0) {
            int n = index - model.infoBase();
            if (n >= 0 && n < depth) {
                return n;
            }
        }
        return -1;
    }

    /** RDMSR on the physical LBR MSR; #GP for anything that is not one. */
    public long readMsr(int index) {
        if (index == Msr.MSR_LBR_TOS) {
            return tos;
        }
        if (index == Msr.MSR_LBR_SELECT && model.hasLbrSelect()) {
            return lbrSelect;
        }
        int e = entry(index);
        if (e < 0) {
            throw CpuFault.gp();
        }
        return ring[(e << 2) + part(index, e)];
    }

    /** WRMSR on the physical LBR MSR, with the hardware's value checks. */
    public void writeMsr(int index, long value) {
        if (index == Msr.MSR_LBR_TOS) {
            tos = (int) (value & mask);
            return;
        }
        if (index == Msr.MSR_LBR_SELECT && model.hasLbrSelect()) {
            long reserved = model.hasCallStack() ? ~0x3FFL : ~0x1FFL;
            if ((value & reserved) != 0) {
                throw CpuFault.gp();
            }
            setLbrSelect(value);
            return;
        }
        int e = entry(index);
        if (e < 0) {
            throw CpuFault.gp();
        }
        int part = part(index, e);
        boolean ok = part == 0 ? LbrFormat.validFrom(fmt, value)
                : part == 1 ? LbrFormat.validTo(fmt, value) : (value & LbrFormat.INFO_RESERVED) == 0;
        if (!ok) {
            throw CpuFault.gp();
        }
        ring[(e << 2) + part] = value;
    }

    // ------------------------------------------------------------------ read-out

    /** The stack newest first, only entries that hold a record. */
    public LbrSnapshot snapshot() {
        List<LbrSnapshot.Entry> entries = new ArrayList<>();
        for (int k = 0; k < depth; k++) {
            int i = (tos - k) & mask;
            if (!holdsRecord(i)) {
                continue;
            }
            long f = ring[i << 2], t = ring[(i << 2) + 1], n = ring[(i << 2) + 2];
            entries.add(new LbrSnapshot.Entry(i,
                    LbrFormat.decodeFrom(fmt, f),
                    LbrFormat.decodeTo(fmt, f, t),
                    LbrFormat.hasMispredict(fmt) ? LbrFormat.decodeMispred(fmt, f, n) : null,
                    LbrFormat.hasCycles(fmt) ? LbrFormat.decodeCycles(fmt, t, n) : null));
        }
        return new LbrSnapshot(model.name(), model.lbrFormat(), depth, tos, debugctl, lbrSelect, List.copyOf(entries));
    }

    /**
     * Decodes a saved copy of an LBR (as the host keeps it) the way {@link #snapshot()} decodes the
     * live one: entries newest first from {@code tos}, only slots holding a record.
     */
    public static LbrSnapshot decode(CpuModel model, long[][] raw, int tos, long debugctl, long lbrSelect) {
        int fmt = model.recordFormat();
        int depth = model.lbrDepth();
        List<LbrSnapshot.Entry> entries = new ArrayList<>();
        for (int k = 0; k < depth; k++) {
            int i = (tos - k) & (depth - 1);
            long f = raw[0][i], t = raw[1][i], n = raw[2][i];
            if (f == 0 && t == 0) {
                continue;
            }
            entries.add(new LbrSnapshot.Entry(i, LbrFormat.decodeFrom(fmt, f), LbrFormat.decodeTo(fmt, f, t),
                    LbrFormat.hasMispredict(fmt) ? LbrFormat.decodeMispred(fmt, f, n) : null,
                    LbrFormat.hasCycles(fmt) ? LbrFormat.decodeCycles(fmt, t, n) : null));
        }
        return new LbrSnapshot(model.name(), model.lbrFormat(), depth, tos, debugctl, lbrSelect, List.copyOf(entries));
    }

    /** Raw MSR contents, for save/restore by the host: FROM, TO, INFO for each entry. */
    public long[][] rawEntries() {
        long[][] out = new long[3][depth];
        for (int i = 0; i < depth; i++) {
            for (int p = 0; p < 3; p++) {
                out[p][i] = ring[(i << 2) + p];
            }
        }
        return out;
    }
}
