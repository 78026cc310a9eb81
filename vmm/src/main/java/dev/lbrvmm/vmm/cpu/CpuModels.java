package dev.lbrvmm.vmm.cpu;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CPU model table (perf's intel_pmu_lbr_init_* and the SDM), the one place model data is written down.
 *
 * <p>Choices where public sources do not settle a detail, made here once:
 * Core2 reports LBR format 1 (64-bit linear addresses); Goldmont reports format 6 and, following
 * the conservative reading, exposes no LBR_INFO MSRs; Ice Lake uses format 5; Knights Landing reports
 * format 1 but records with the mispredict bit of format 3, as Linux assumes.
 * {@code alderlake} models an Architectural-LBR-only part: it has no model-specific LBR (arch LBR
 * itself is not modelled), and {@code qemu64} is a PMU-less generic model.
 */
public final class CpuModels {
    private CpuModels() {}

    private static final int NHM_FROM = Msr.MSR_LBR_NHM_FROM;
    private static final int NHM_TO = Msr.MSR_LBR_NHM_TO;
    private static final int INFO = Msr.MSR_LBR_INFO_0;
    private static final String I = CpuModel.INTEL;

    private static final Map<String, CpuModel> TABLE;

    static {
        Map<String, CpuModel> m = new LinkedHashMap<>();
        add(m, new CpuModel("core2", "Intel Core 2 (Penryn)", I, 6, 0x17, 6,
                4, Msr.MSR_LBR_CORE_FROM, Msr.MSR_LBR_CORE_TO, 0, 1, 1, false, false, false, 2, 2, 40, 3, 40));
        add(m, new CpuModel("nehalem", "Intel Core i7 (Nehalem)", I, 6, 0x1A, 5,
                16, NHM_FROM, NHM_TO, 0, 3, 3, true, false, false, 3, 4, 48, 3, 48));
        add(m, new CpuModel("westmere", "Intel Westmere", I, 6, 0x2C, 2,
                16, NHM_FROM, NHM_TO, 0, 3, 3, true, false, false, 3, 4, 48, 3, 48));
        add(m, new CpuModel("sandybridge", "Intel Sandy Bridge", I, 6, 0x2A, 7,
                16, NHM_FROM, NHM_TO, 0, 3, 3, true, false, false, 3, 4, 48, 3, 48));
        add(m, new CpuModel("ivybridge", "Intel Ivy Bridge", I, 6, 0x3A, 9,
                16, NHM_FROM, NHM_TO, 0, 3, 3, true, false, false, 3, 4, 48, 3, 48));
        add(m, new CpuModel("haswell", "Intel Haswell", I, 6, 0x3C, 3,
                16, NHM_FROM, NHM_TO, 0, 4, 4, true, true, true, 3, 4, 48, 3, 48));
        add(m, new CpuModel("broadwell", "Intel Broadwell", I, 6, 0x3D, 4,
                16, NHM_FROM, NHM_TO, 0, 4, 4, true, true, true, 3, 4, 48, 3, 48));
        add(m, new CpuModel("skylake-client", "Intel Skylake client", I, 6, 0x5E, 3,
                32, NHM_FROM, NHM_TO, INFO, 5, 5, true, true, true, 4, 4, 48, 3, 48));
        add(m, new CpuModel("skylake-server", "Intel Skylake server", I, 6, 0x55, 4,
                32, NHM_FROM, NHM_TO, INFO, 5, 5, true, true, true, 4, 4, 48, 3, 48));
        add(m, new CpuModel("icelake-client", "Intel Ice Lake client", I, 6, 0x7E, 5,
                32, NHM_FROM, NHM_TO, INFO, 5, 5, true, true, true, 5, 8, 48, 4, 48));
        add(m, new CpuModel("icelake-server", "Intel Ice Lake server", I, 6, 0x6A, 6,
                32, NHM_FROM, NHM_TO, INFO, 5, 5, true, true, true, 5, 8, 48, 4, 48));
        add(m, new CpuModel("goldmont", "Intel Goldmont", I, 6, 0x5C, 9,
                32, NHM_FROM, NHM_TO, 0, 6, 6, true, true, false, 4, 4, 48, 3, 48));
        add(m, new CpuModel("knights-landing", "Intel Xeon Phi (Knights Landing)", I, 6, 0x57, 1,
                8, NHM_FROM, NHM_TO, 0, 1, 3, true, false, false, 3, 2, 40, 3, 40));
        add(m, new CpuModel("alderlake", "Intel Alder Lake (Architectural LBR only)", I, 6, 0x97, 2,
                0, 0, 0, 0, 0, 0, false, false, false, 5, 6, 48, 4, 48));
        add(m, new CpuModel("qemu64", "generic x86-64 without PMU", CpuModel.AMD, 15, 0x6B, 1,
                0, 0, 0, 0, 0, 0, false, false, false, 0, 0, 0, 0, 0));
        TABLE = Collections.unmodifiableMap(m);
    }

    private static void add(Map<String, CpuModel> m, CpuModel model) {
        m.put(model.name(), model);
    }

    public static Optional<CpuModel> byName(String name) {
        return Optional.ofNullable(TABLE.get(name));
    }

    public static List<CpuModel> all() {
        return List.copyOf(TABLE.values());
    }

    public static List<String> names() {
        return List.copyOf(TABLE.keySet());
    }
}
