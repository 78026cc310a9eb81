package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.ReplyJson;
import dev.lbrvmm.vmm.cpu.JitStats;
import dev.lbrvmm.vmm.kvm.CostTable;
import dev.lbrvmm.vmm.kvm.LbrStats;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.Vm;
import dev.lbrvmm.vmm.qmp.QmpReplies.LbrStatsInfo;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The guest-LBR accounting as JSON, one schema for the monitor's query-lbr-stats and
 * {@code run --stats --json}: {@code {"policy", "guest-lbr", "costs": {"vm-exit", "rdmsr",
 * "wrmsr", "perf-event"}, "vcpus": [query-lbr-stats reply, ...], "vm": query-lbr-stats reply}}, and
 * under the translating engine {@code "jit": [{"regions", "reused", "blocks", "instructions",
 * "instructions-run", "invalidated", "evicted", "refused", "translation-ns",
 * "first-region-ns", "instructions-before-first-region"}, ...]} per vCPU.
 */
public final class StatsJson {
    private StatsJson() {}

    static LbrStatsInfo info(Vm vm, LbrStats st) {
        Map<String, Long> byReason = new LinkedHashMap<>();
        st.exitsByReason().forEach((k, n) -> byReason.put(k.name().toLowerCase(Locale.ROOT).replace('_', '-'), n));
        return new LbrStatsInfo(vm.lbrPolicy().name(), st.instructions(), st.exits(), byReason, st.lbrMsrExits(),
                st.passthroughAccesses(), st.passthroughSwitches(), st.eventsCreated(), st.eventsReleased(), st.contextSwitches(),
                st.saveRestore().saves(), st.saveRestore().restores(), st.saveRestore().skippedRestores(),
                st.saveRestore().resets(), st.saveRestore().msrAccesses(), st.reclaimDrops(),
                st.warnings(), st.overheadCycles(vm.costs()));
    }

    /** The whole VM's accounting as one JSON object (one line). */
    public static String of(Vm vm) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("policy", vm.lbrPolicy().name());
        o.put("guest-lbr", vm.guestLbr());
        CostTable c = vm.costs();
        o.putObject("costs").put("vm-exit", c.vmExit()).put("rdmsr", c.rdmsr()).put("wrmsr", c.wrmsr()).put("perf-event", c.perfEvent());
        var vcpus = o.putArray("vcpus");
        for (Vcpu v : vm.vcpus()) {
            vcpus.add(ReplyJson.toJson(info(vm, v.stats())));
        }
        o.set("vm", ReplyJson.toJson(info(vm, vm.stats())));
        if (vm.vcpus().stream().anyMatch(v -> v.cpu().translating())) {
            // the translating engine's own counts, apart: everything else is the same under both engines
            var jit = o.putArray("jit");
            for (Vcpu v : vm.vcpus()) {
                JitStats j = v.cpu().jitStats();
                jit.addObject().put("regions", j.regions()).put("reused", j.reused()).put("blocks", j.blocks()).put("instructions", j.instructions())
                        .put("instructions-run", j.instructionsRun()).put("invalidated", j.invalidated()).put("evicted", j.evicted())
                        .put("refused", j.refused()).put("translation-ns", j.translationNanos())
                        .put("first-region-ns", j.firstRegionNanos()).put("instructions-before-first-region", j.instructionsBeforeFirstRegion());
            }
        }
        return o.toString();
    }
}
