package dev.lbrvmm.vmm.host;

/**
 * The host LBR as perf describes it to KVM (x86_perf_get_lbr / x86_perf_get_lbr_stack):
 * depth, TOS MSR, FROM/TO/INFO bases (info 0 when the format has no LBR_INFO).
 */
public record LbrDescription(int nr, int tos, int from, int to, int info) {}
