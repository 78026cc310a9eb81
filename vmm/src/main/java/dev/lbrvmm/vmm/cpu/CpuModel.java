package dev.lbrvmm.vmm.cpu;

/**
 * One CPU model's identity, model-specific LBR geometry and architectural-PMU shape
 * (perf's intel_pmu_lbr_init_* functions and the SDM's LBR tables). Instances live in {@link CpuModels}; nothing else defines model data.
 *
 * @param name            config name, e.g. {@code skylake-client}
 * @param description     marketing/uarch name
 * @param vendor          CPUID vendor string
 * @param family          CPUID display family
 * @param model           CPUID display model
 * @param stepping        CPUID stepping
 * @param lbrDepth        number of LBR entries; 0 = no model-specific LBR
 * @param fromBase        first LASTBRANCH_i_FROM_IP MSR (0 when no LBR)
 * @param toBase          first LASTBRANCH_i_TO_IP MSR (0 when no LBR, or format 0 which packs both)
 * @param infoBase        first LBR_INFO_i MSR, or 0 when the model has none (only formats 5 and 7)
 * @param lbrFormat       LBR_FMT reported in IA32_PERF_CAPABILITIES[5:0]
 * @param recordFormat    record layout the unit really writes (differs from lbrFormat on KNL)
 * @param hasLbrSelect    MSR_LBR_SELECT exists (hardware filtering)
 * @param hasCallStack    LBR_SELECT bit 9 (EN_CALLSTACK) exists
 * @param hasTsx          format 4/5 IN_TX/ABORT bits are meaningful
 * @param pmuVersion      CPUID.0AH EAX[7:0]; 0 = no architectural PMU
 * @param gpCounters      general-purpose counters
 * @param gpWidth         general-purpose counter width in bits
 * @param fixedCounters   fixed-function counters
 * @param fixedWidth      fixed counter width in bits
 */
public record CpuModel(
        String name, String description, String vendor, int family, int model, int stepping,
        int lbrDepth, int fromBase, int toBase, int infoBase, int lbrFormat, int recordFormat,
        boolean hasLbrSelect, boolean hasCallStack, boolean hasTsx,
        int pmuVersion, int gpCounters, int gpWidth, int fixedCounters, int fixedWidth) {

    public static final String INTEL = "GenuineIntel";
    public static final String AMD = "AuthenticAMD";

    public boolean hasLbr() {
        return lbrDepth > 0;
    }

    public boolean isIntel() {
        return INTEL.equals(vendor);
    }

    /** PDCM (CPUID.01H:ECX[15]) and IA32_PERF_CAPABILITIES exist on this model. */
    public boolean hasPdcm() {
        return isIntel() && pmuVersion > 0;
    }

    /** Bits of MSR_LASTBRANCH_TOS that hold the index: log2(depth). */
    public int tosBits() {
        return lbrDepth == 0 ? 0 : Integer.numberOfTrailingZeros(lbrDepth);
    }

    /** Number of MSRs KVM passes through for this geometry (vmx_passthrough_lbr_msrs): FROM/TO(/INFO) x depth + SELECT + TOS. */
    public int lbrMsrCount() {
        if (!hasLbr()) {
            return 0;
        }
        return lbrDepth * (infoBase != 0 ? 3 : 2) + 2;
    }

    /** CPUID.01H:EAX signature built from family/model/stepping. */
    public int cpuidSignature() {
        int baseFamily = Math.min(family, 0xF);
        int extFamily = family >= 0xF ? family - 0xF : 0;
        int baseModel = model & 0xF;
        int extModel = (family == 6 || family == 0xF) ? (model >> 4) & 0xF : 0;
        return (extFamily << 20) | (extModel << 16) | (baseFamily << 8) | (baseModel << 4) | (stepping & 0xF);
    }
}
