package dev.lbrvmm.vmm.kvm;

/**
 * Modelled cycle costs (config {@code kvm.cost}). Defaults: a VM exit/entry round trip of 1200
 * cycles (typical VMX figures are 1000-1500); RDMSR 36 and WRMSR 40 cycles, so that saving a
 * Skylake LBR stack (32 x FROM/TO/INFO plus TOS and LBR_SELECT, 98 RDMSRs) costs about 3500
 * cycles, inside the 3000-4000 cycles Wei Wang reported for saving 32 entries on Skylake; creating
 * a perf event 30000 cycles (a single LBR event, far cheaper than the vPMC path's reprogramming).
 */
public record CostTable(long vmExit, long rdmsr, long wrmsr, long perfEvent) {
    public static final CostTable DEFAULT = new CostTable(1200, 36, 40, 30_000);
}
