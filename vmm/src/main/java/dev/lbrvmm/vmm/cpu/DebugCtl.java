package dev.lbrvmm.vmm.cpu;

/** IA32_DEBUGCTL (0x1D9) bits (SDM vol. 3B; msr-index.h DEBUGCTLMSR_*). */
public final class DebugCtl {
    private DebugCtl() {}

    public static final long LBR = 1L;
    public static final long BTF = 1L << 1;
    public static final long BUS_LOCK_DETECT = 1L << 2;
    public static final long TR = 1L << 6;
    public static final long BTS = 1L << 7;
    public static final long BTINT = 1L << 8;
    public static final long BTS_OFF_OS = 1L << 9;
    public static final long BTS_OFF_USR = 1L << 10;
    public static final long FREEZE_LBRS_ON_PMI = 1L << 11;
    public static final long FREEZE_PERFMON_ON_PMI = 1L << 12;
    public static final long ENABLE_UNCORE_PMI = 1L << 13;
    public static final long FREEZE_WHILE_SMM = 1L << 14;
    public static final long RTM_DEBUG = 1L << 15;
}
