package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.cpu.JitStats;
import dev.lbrvmm.vmm.kvm.CostTable;
import dev.lbrvmm.vmm.kvm.ExitReason;
import dev.lbrvmm.vmm.kvm.LbrStats;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.Vm;
import dev.lbrvmm.vmm.qmp.StatsJson;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The {@code --stats} summary: the KVM model's guest-LBR accounting as a table, one column per
 * vCPU (and the VM's total when there are several), or with {@code --json} as one JSON object with
 * the members of the monitor's query-lbr-stats ({@link StatsJson}).
 */
final class StatsReport {
    private StatsReport() {}

    static void print(Vm vm, PrintStream out, boolean json) {
        if (json) {
            out.println(StatsJson.of(vm));
            return;
        }
        CostTable c = vm.costs();
        out.printf("lbrvmm: stats: policy %s, guest LBR %s; modelled costs: VM exit %d, RDMSR %d, WRMSR %d, perf event %d cycles%n",
                vm.lbrPolicy().name(), vm.guestLbr() ? "on" : "off", c.vmExit(), c.rdmsr(), c.wrmsr(), c.perfEvent());
        List<String> names = new ArrayList<>();
        List<LbrStats> columns = new ArrayList<>();
        for (Vcpu v : vm.vcpus()) {
            names.add("vcpu" + v.index());
            columns.add(v.stats());
        }
        if (vm.vcpus().size() > 1) {
            names.add("vm");
            columns.add(vm.stats());
        }
        Table<LbrStats> t = new Table<>(names, columns);
        t.row("instructions", LbrStats::instructions);
        t.row("VM exits", LbrStats::exits);
        TreeSet<ExitReason> reasons = new TreeSet<>();
        columns.forEach(s -> reasons.addAll(s.exitsByReason().keySet()));
        for (ExitReason r : reasons) {
            t.row("  " + r.name().toLowerCase(Locale.ROOT).replace('_', '-'), s -> s.exitsByReason().getOrDefault(r, 0L));
        }
        t.row("LBR-MSR exits", LbrStats::lbrMsrExits);
        t.row("pass-through accesses", LbrStats::passthroughAccesses);
        t.row("pass-through switches", LbrStats::passthroughSwitches);
        t.row("context switches", LbrStats::contextSwitches);
        t.row("events created", LbrStats::eventsCreated);
        t.row("events released", LbrStats::eventsReleased);
        t.row("LBR saves", s -> s.saveRestore().saves());
        t.row("LBR restores", s -> s.saveRestore().restores());
        t.row("  skipped", s -> s.saveRestore().skippedRestores());
        t.row("LBR resets", s -> s.saveRestore().resets());
        t.row("MSR accesses for them", s -> s.saveRestore().msrAccesses());
        t.row("accesses lost to host reclaim", LbrStats::reclaimDrops);
        t.row("warnings", LbrStats::warnings);
        t.row("overhead cycles", s -> s.overheadCycles(c));
        t.row("  per million instructions", s -> s.instructions() == 0 ? 0 : Math.round(s.overheadCycles(c) * 1e6 / s.instructions()));
        List<Table<?>> tables = new ArrayList<>(List.of(t));
        if (vm.vcpus().stream().anyMatch(v -> v.cpu().translating())) {
            tables.add(jitTable(vm));
        }
        Table.print(out, tables);
    }

    /** One vCPU's translating-engine counts and all the instructions it retired. */
    private record JitColumn(JitStats jit, long retired) {}

    /** The translating engine's own counts, a section apart (they are all that differs between engines). */
    private static Table<JitColumn> jitTable(Vm vm) {
        List<String> names = new ArrayList<>();
        List<JitColumn> columns = new ArrayList<>();
        for (Vcpu v : vm.vcpus()) {
            names.add("vcpu" + v.index());
            columns.add(new JitColumn(v.cpu().jitStats(), v.cpu().retired()));
        }
        if (columns.size() > 1) {
            names.add("vm");
            columns.add(total(columns));
        }
        Table<JitColumn> t = new Table<>(names, columns);
        t.title = "lbrvmm: stats: translating engine (guest.cpu.engine = jit)";
        t.row("regions translated", c -> c.jit().regions());
        t.row("  reused from the process", c -> c.jit().reused());
        t.row("  blocks in them", c -> c.jit().blocks());
        t.row("  instructions in them", c -> c.jit().instructions());
        t.row("instructions run translated", c -> c.jit().instructionsRun());
        t.text("  share of all run", c -> c.retired() == 0 ? "-"
                : String.format(Locale.ROOT, "%.1f%%", 100.0 * c.jit().instructionsRun() / c.retired()));
        t.row("invalidated", c -> c.jit().invalidated());
        t.row("evicted", c -> c.jit().evicted());
        t.row("refused", c -> c.jit().refused());
        t.text("translation time", c -> String.format(Locale.ROOT, "%.1f ms", c.jit().translationNanos() / 1e6));
        t.text("first region after", c -> c.jit().firstRegionNanos() < 0 ? "-"
                : String.format(Locale.ROOT, "%.1f ms", c.jit().firstRegionNanos() / 1e6));
        t.row("  guest instructions by then", c -> c.jit().instructionsBeforeFirstRegion());
        return t;
    }

    /** The VM's column: every count summed; the warm-up is the earliest vCPU's. */
    private static JitColumn total(List<JitColumn> columns) {
        long regions = 0, reused = 0, blocks = 0, instructions = 0, run = 0, invalidated = 0, evicted = 0, refused = 0, nanos = 0, retired = 0;
        JitStats first = null;
        for (JitColumn c : columns) {
            JitStats j = c.jit();
            regions += j.regions();
            reused += j.reused();
            blocks += j.blocks();
            instructions += j.instructions();
            run += j.instructionsRun();
            invalidated += j.invalidated();
            evicted += j.evicted();
            refused += j.refused();
            nanos += j.translationNanos();
            retired += c.retired();
            if (j.firstRegionNanos() >= 0 && (first == null || j.firstRegionNanos() < first.firstRegionNanos())) {
                first = j;
            }
        }
        return new JitColumn(new JitStats(regions, reused, blocks, instructions, run, invalidated, evicted, refused, nanos,
                first == null ? -1 : first.firstRegionNanos(), first == null ? 0 : first.instructionsBeforeFirstRegion()), retired);
    }

    /** Rows of labelled numbers, right-aligned in columns as wide as their widest cell. */
    private static final class Table<T> {
        private final List<String> names;
        private final List<T> columns;
        private final List<String[]> rows = new ArrayList<>();
        /** A line printed before the table, or null. */
        String title;

        Table(List<String> names, List<T> columns) {
            this.names = names;
            this.columns = columns;
            rows.add(names.toArray(new String[0]));
        }

        void row(String label, ToLongFunction<T> value) {
            text(label, c -> String.format(Locale.ROOT, "%,d", value.applyAsLong(c)));
        }

        void text(String label, Function<T, String> value) {
            String[] cells = new String[columns.size() + 1];
            cells[0] = label;
            for (int i = 0; i < columns.size(); i++) {
                cells[i + 1] = value.apply(columns.get(i));
            }
            rows.add(cells);
        }

        /** Prints tables with as many columns each, one under the other, aligned as one. */
        static void print(PrintStream out, List<Table<?>> tables) {
            int n = tables.get(0).names.size();
            int label = 0;
            int[] width = new int[n];
            for (Table<?> t : tables) {
                label = Math.max(label, t.rows.stream().skip(1).mapToInt(r -> r[0].length()).max().orElse(0));
                for (int i = 0; i < n; i++) {
                    int col = i;
                    width[i] = Math.max(width[i], t.rows.stream().mapToInt(r -> r[col + (r.length > n ? 1 : 0)].length()).max().orElse(0));
                }
            }
            for (Table<?> t : tables) {
                t.print(out, label, width);
            }
        }

        private void print(PrintStream out, int label, int[] width) {
            if (title != null) {
                out.println(title);
            }
            for (String[] r : rows) {
                StringBuilder sb = new StringBuilder("  ");
                boolean header = r.length == names.size();
                sb.append(String.format("%-" + label + "s", header ? "" : r[0]));
                for (int i = 0; i < names.size(); i++) {
                    String cell = header ? r[i] : r[i + 1];
                    sb.append("  ").append(String.format("%" + width[i] + "s", cell));
                }
                out.println(sb);
            }
        }
    }
}
