package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.kvm.CostTable;
import dev.lbrvmm.vmm.kvm.GuestLbrPolicy;

/**
 * The {@code kvm} section: the per-VM guest-LBR capability, the guest-LBR policy, and the
 * modelled cycle costs for the accounting.
 */
public record KvmSection(boolean guestLbr, GuestLbrPolicy lbrPolicy, CostTable costs) {

    static KvmSection from(ConfigReader r) throws GuestConfigException {
        String policy = r.string("kvm.lbr-policy");
        GuestLbrPolicy p = GuestLbrPolicy.byName(policy).orElseThrow(() ->
                r.bad("kvm.lbr-policy", "must be one of " + String.join(", ", GuestLbrPolicy.NAMES) + ", got '" + policy + "'"));
        CostTable costs = new CostTable(r.nonNegative("kvm.cost.vm-exit"), r.nonNegative("kvm.cost.rdmsr"),
                r.nonNegative("kvm.cost.wrmsr"), r.nonNegative("kvm.cost.perf-event"));
        return new KvmSection(r.bool("kvm.guest-lbr"), p, costs);
    }
}
