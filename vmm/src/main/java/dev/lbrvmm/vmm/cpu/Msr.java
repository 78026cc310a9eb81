package dev.lbrvmm.vmm.cpu;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Architectural and model-specific MSR numbers used anywhere in lbrvmm, defined once
 * (the SDM's MSR tables and Linux's msr-index.h names). Config files name MSRs by these names or by number.
 */
public final class Msr {
    private Msr() {}

    public static final int IA32_TIME_STAMP_COUNTER = 0x10;
    public static final int IA32_APIC_BASE = 0x1B;
    public static final int IA32_PMC0 = 0xC1;
    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int IA32_MCG_CAP = 0x179;
    public static final int IA32_MCG_STATUS = 0x17A;
    public static final int IA32_MISC_ENABLE = 0x1A0;
    public static final int IA32_PAT = 0x277;
    public static final int IA32_PERFEVTSEL0 = 0x186;
    public static final int MSR_LBR_SELECT = 0x1C8;
    public static final int MSR_LBR_TOS = 0x1C9;
    public static final int IA32_DEBUGCTL = 0x1D9;
    public static final int IA32_FIXED_CTR0 = 0x309;
    public static final int IA32_PERF_CAPABILITIES = 0x345;
    public static final int IA32_FIXED_CTR_CTRL = 0x38D;
    public static final int IA32_PERF_GLOBAL_STATUS = 0x38E;
    public static final int IA32_PERF_GLOBAL_CTRL = 0x38F;
    public static final int IA32_PERF_GLOBAL_OVF_CTRL = 0x390;
    /** Core2/Atom LBR FROM base ("LBR_CORE_FROM"). */
    public static final int MSR_LBR_CORE_FROM = 0x40;
    public static final int MSR_LBR_CORE_TO = 0x60;
    /** Nehalem and later LBR FROM base ("LBR_NHM_FROM"). */
    public static final int MSR_LBR_NHM_FROM = 0x680;
    public static final int MSR_LBR_NHM_TO = 0x6C0;
    public static final int MSR_LBR_INFO_0 = 0xDC0;
    /** x2APIC EOI and LVT performance-monitoring-counter registers (MSR 0x800 + MMIO offset / 16). */
    public static final int X2APIC_EOI = 0x80B;
    public static final int X2APIC_LVT_PMI = 0x834;
    public static final int MSR_ARCH_LBR_CTL = 0x14CE;
    public static final int MSR_ARCH_LBR_DEPTH = 0x14CF;
    public static final int IA32_EFER = 0xC0000080;
    public static final int IA32_STAR = 0xC0000081;
    public static final int IA32_LSTAR = 0xC0000082;
    public static final int IA32_CSTAR = 0xC0000083;
    public static final int IA32_FMASK = 0xC0000084;
    public static final int IA32_FS_BASE = 0xC0000100;
    public static final int IA32_GS_BASE = 0xC0000101;
    public static final int IA32_KERNEL_GS_BASE = 0xC0000102;
    public static final int IA32_TSC_AUX = 0xC0000103;

    private static final Map<String, Integer> BY_NAME;

    static {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("IA32_TIME_STAMP_COUNTER", IA32_TIME_STAMP_COUNTER);
        m.put("IA32_APIC_BASE", IA32_APIC_BASE);
        m.put("IA32_PMC0", IA32_PMC0);
        m.put("IA32_PERFEVTSEL0", IA32_PERFEVTSEL0);
        m.put("MSR_LBR_SELECT", MSR_LBR_SELECT);
        m.put("MSR_LBR_TOS", MSR_LBR_TOS);
        m.put("MSR_LASTBRANCH_TOS", MSR_LBR_TOS);
        m.put("IA32_DEBUGCTL", IA32_DEBUGCTL);
        m.put("IA32_SYSENTER_CS", IA32_SYSENTER_CS);
        m.put("IA32_SYSENTER_ESP", IA32_SYSENTER_ESP);
        m.put("IA32_SYSENTER_EIP", IA32_SYSENTER_EIP);
        m.put("IA32_MCG_CAP", IA32_MCG_CAP);
        m.put("IA32_MCG_STATUS", IA32_MCG_STATUS);
        m.put("IA32_MISC_ENABLE", IA32_MISC_ENABLE);
        m.put("IA32_PAT", IA32_PAT);
        m.put("IA32_FIXED_CTR0", IA32_FIXED_CTR0);
        m.put("IA32_PERF_CAPABILITIES", IA32_PERF_CAPABILITIES);
        m.put("IA32_FIXED_CTR_CTRL", IA32_FIXED_CTR_CTRL);
        m.put("IA32_PERF_GLOBAL_STATUS", IA32_PERF_GLOBAL_STATUS);
        m.put("IA32_PERF_GLOBAL_CTRL", IA32_PERF_GLOBAL_CTRL);
        m.put("IA32_PERF_GLOBAL_OVF_CTRL", IA32_PERF_GLOBAL_OVF_CTRL);
        m.put("MSR_LBR_CORE_FROM", MSR_LBR_CORE_FROM);
        m.put("MSR_LBR_CORE_TO", MSR_LBR_CORE_TO);
        m.put("MSR_LBR_NHM_FROM", MSR_LBR_NHM_FROM);
        m.put("MSR_LBR_NHM_TO", MSR_LBR_NHM_TO);
        m.put("MSR_LBR_INFO_0", MSR_LBR_INFO_0);
        m.put("X2APIC_EOI", X2APIC_EOI);
        m.put("X2APIC_LVT_PMI", X2APIC_LVT_PMI);
        m.put("MSR_ARCH_LBR_CTL", MSR_ARCH_LBR_CTL);
        m.put("MSR_ARCH_LBR_DEPTH", MSR_ARCH_LBR_DEPTH);
        m.put("IA32_EFER", IA32_EFER);
        m.put("IA32_STAR", IA32_STAR);
        m.put("IA32_LSTAR", IA32_LSTAR);
        m.put("IA32_CSTAR", IA32_CSTAR);
        m.put("IA32_FMASK", IA32_FMASK);
        m.put("IA32_FS_BASE", IA32_FS_BASE);
        m.put("IA32_GS_BASE", IA32_GS_BASE);
        m.put("IA32_KERNEL_GS_BASE", IA32_KERNEL_GS_BASE);
        m.put("IA32_TSC_AUX", IA32_TSC_AUX);
        BY_NAME = Collections.unmodifiableMap(m);
    }

    /** All names an MSR may be given by, in table order. */
    public static Map<String, Integer> names() {
        return BY_NAME;
    }

    /**
     * Resolves a name from {@link #names()} (case-insensitive) or a number written as
     * {@code 0x1d9} or decimal.
     */
    public static OptionalInt parse(String text) {
        String t = text.trim();
        Integer byName = BY_NAME.get(t.toUpperCase(Locale.ROOT));
        if (byName != null) {
            return OptionalInt.of(byName);
        }
        try {
            long v = t.startsWith("0x") || t.startsWith("0X")
                    ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
            if (v < 0 || v > 0xFFFF_FFFFL) {
                return OptionalInt.empty();
            }
            return OptionalInt.of((int) v);
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /** The first table name of an MSR number, or its number in hex. */
    public static String describe(int index) {
        for (Map.Entry<String, Integer> e : BY_NAME.entrySet()) {
            if (e.getValue() == index) {
                return e.getKey() + String.format(" (0x%x)", index);
            }
        }
        return String.format("MSR 0x%x", index);
    }
}
