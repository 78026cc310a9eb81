package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.kvm.CostTable;
import dev.lbrvmm.vmm.kvm.ExitReason;
import dev.lbrvmm.vmm.kvm.LbrStats;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.Vm;
import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;

/** The {@code --stats} summary: the KVM model's guest-LBR accounting, per vCPU and for the VM. */
final class StatsReport {
    private StatsReport() {}

    static void print(Vm vm, PrintStream out) {
        CostTable c = vm.costs();
        out.printf("lbrvmm: stats (policy %s, guest LBR %s; cost: exit %d, rdmsr %d, wrmsr %d, perf event %d cycles)%n",
                vm.lbrPolicy().name(), vm.guestLbr() ? "on" : "off", c.vmExit(), c.rdmsr(), c.wrmsr(), c.perfEvent());
        for (Vcpu v : vm.vcpus()) {
            line(out, "vcpu" + v.index(), v.stats(), c);
        }
        if (vm.vcpus().size() > 1) {
            line(out, "vm", vm.stats(), c);
        }
    }

    static void line(PrintStream out, String who, LbrStats s, CostTable c) {
        Map<String, Long> exits = new TreeMap<>();
        for (Map.Entry<ExitReason, Long> e : s.exitsByReason().entrySet()) {
            exits.put(e.getKey().name().toLowerCase(java.util.Locale.ROOT), e.getValue());
        }
        double perM = s.instructions() == 0 ? 0 : s.overheadCycles(c) * 1e6 / s.instructions();
        out.printf("  %s: %,d instructions; %,d VM exits %s; %,d LBR-MSR exits, %,d pass-through accesses, %,d pass-through switches;%n",
                who, s.instructions(), s.exits(), exits, s.lbrMsrExits(), s.passthroughAccesses(), s.passthroughSwitches());
        out.printf("  %s: %,d context switches; events %,d created, %,d released; %,d saves, %,d restores (%,d skipped), %,d resets,"
                + " %,d LBR MSR accesses for them; %,d accesses lost to host reclaim; %,d warnings;%n",
                who, s.contextSwitches(), s.eventsCreated(), s.eventsReleased(), s.saveRestore().saves(), s.saveRestore().restores(),
                s.saveRestore().skippedRestores(), s.saveRestore().resets(), s.saveRestore().msrAccesses(), s.reclaimDrops(), s.warnings());
        out.printf("  %s: modelled overhead %,d cycles (%,.0f per million guest instructions)%n", who, s.overheadCycles(c), perM);
    }
}
