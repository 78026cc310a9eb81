package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.bench.GuestTiming;
import dev.lbrvmm.vmm.bench.Statistics;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.MachineException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lbrvmm bench}: interpreter speed on a fixed workload. Each config is run to completion
 * {@code --warmup} times unmeasured, then {@code --repeat} times measured (only the guest run is
 * timed, not building the machine); the median per config and the median of those is printed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {LbrPolicyBenchCommand.class, QmpBenchCommand.class, SamplingBenchCommand.class},
        description = "Measures guest instructions per second on a fixed workload (default: configs/loop.conf, fib.conf, "
                + "sort.conf, dispatch.conf). Serial output of the guests is discarded.")
final class BenchCommand implements Callable<Integer> {
    static final List<String> DEFAULT_WORKLOAD = List.of("loop", "fib", "sort", "dispatch");

    private final Main.Console console;

    @Parameters(arity = "0..*", paramLabel = "CONFIG", description = "Guest configs to measure.")
    List<Path> configs = new ArrayList<>();

    @Mixin
    MeasuredRuns runs = new MeasuredRuns(7, 3);

    @Mixin
    ConfigOverrides overrides = new ConfigOverrides();

    @Option(names = "--compare-lbr", description = "Measure each workload with LBR off and with LBR recording for the whole run "
            + "(kvm.guest-lbr=on, IA32_DEBUGCTL.LBR=1), alternating runs, and print the ratio.")
    boolean compareLbr;

    @Option(names = "--compare-paging", description = "Measure each workload with paging off and with identity-mapped 4-level "
            + "paging on (guest.paging=identity), alternating runs, and print the ratio.")
    boolean comparePaging;

    @Mixin
    JsonOption jsonOption = new JsonOption();

    /** {@code bench --json}: per workload the median of the measured runs. */
    record Mips(String mode, int repeat, int warmup, String jvm, List<Workload> workloads, double medianMips) {}

    record Workload(String name, long instructions, double seconds, double mips, int status) {}

    /** {@code bench --compare-lbr/--compare-paging --json}: per workload the medians off and on, and their ratio. */
    record Comparison(String mode, int repeat, int warmup, String jvm, List<Compared> workloads, double medianMipsOff,
            double medianMipsOn, double ratio) {}

    record Compared(String name, long instructions, double mipsOff, double mipsOn, double ratio) {}

    /** Overrides that turn paging on for a 64-bit program. */
    static final List<String> PAGING_ON = List.of("guest.paging=identity");

    /** Overrides that make the LBR record for the whole run. */
    static final List<String> LBR_ON = List.of("kvm.guest-lbr=on", "guest.msrs.IA32_DEBUGCTL=1");

    BenchCommand(Main.Console console) {
        this.console = console;
    }

    @Override
    public Integer call() {
        boolean json = jsonOption.json;
        if (runs.problem() != null) {
            console.err.println("lbrvmm: bench: " + runs.problem());
            return ExitCodes.USAGE;
        }
        int repeat = runs.repeat;
        int warmup = runs.warmup;
        List<Path> list = configs.isEmpty()
                ? DEFAULT_WORKLOAD.stream().map(n -> GuestTiming.home().resolve("configs").resolve(n + ".conf")).toList()
                : configs;
        try {
            if (compareLbr && comparePaging) {
                console.err.println("lbrvmm: bench: --compare-lbr and --compare-paging are separate measurements; give one");
                return ExitCodes.USAGE;
            }
            if (compareLbr) {
                return compare(list, LBR_ON, "LBR");
            }
            if (comparePaging) {
                return compare(list, PAGING_ON, "paging");
            }
            List<GuestTiming.Result> results = new ArrayList<>();
            if (!json) {
                console.out.printf("%-14s %14s %10s %10s %7s%n", "workload", "instructions", "seconds", "MIPS", "status");
            }
            for (Path p : list) {
                progress(p, warmup + repeat);
                GuestTiming.Result r = GuestTiming.measure(p, overrides.values, warmup, repeat);
                results.add(r);
                if (!json) {
                    console.out.printf("%-14s %,14d %10.4f %10.1f %7d%n", r.name(), r.instructions(), r.medianSeconds(), r.medianMips(),
                            r.status());
                }
            }
            double[] mips = results.stream().mapToDouble(GuestTiming.Result::medianMips).toArray();
            if (json) {
                jsonOption.print(console, (new Mips("mips", repeat, warmup, GuestTiming.jvmDescription(),
                        results.stream().map(r -> new Workload(r.name(), r.instructions(), r.medianSeconds(), r.medianMips(), r.status()))
                                .toList(), Statistics.median(mips))));
                return 0;
            }
            console.out.printf("median MIPS over %d workloads: %.1f (repeat %d, warmup %d, %s)%n",
                    mips.length, Statistics.median(mips), repeat, warmup, GuestTiming.jvmDescription());
            return 0;
        } catch (GuestConfigException | MachineException e) {
            console.err.println("lbrvmm: error: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
    }

    /** Each workload without and with {@code onOverrides}, run after run, alternating. */
    private int compare(List<Path> list, List<String> onOverrides, String what) throws GuestConfigException, MachineException {
        boolean json = jsonOption.json;
        List<String> on = overrides.with(onOverrides);
        int repeat = runs.repeat;
        int warmup = runs.warmup;
        if (!json) {
            console.out.printf("%-14s %14s %15s %15s %10s%n", "workload", "instructions", "MIPS " + what + " off", "MIPS " + what + " on",
                    "on/off");
        }
        List<Compared> compared = new ArrayList<>();
        double[] offAll = new double[list.size()];
        double[] onAll = new double[list.size()];
        for (int k = 0; k < list.size(); k++) {
            Path p = list.get(k);
            progress(p, 2 * (warmup + repeat));
            double[] offMips = new double[repeat];
            double[] onMips = new double[repeat];
            long instructions = 0;
            for (int i = 0; i < warmup + repeat; i++) {
                GuestTiming.Result a = GuestTiming.measure(p, overrides.values, 0, 1);
                GuestTiming.Result b = GuestTiming.measure(p, on, 0, 1);
                instructions = a.instructions();
                if (i >= warmup) {
                    offMips[i - warmup] = a.medianMips();
                    onMips[i - warmup] = b.medianMips();
                }
            }
            offAll[k] = Statistics.median(offMips);
            onAll[k] = Statistics.median(onMips);
            String name = p.getFileName().toString().replaceFirst("\\.conf$", "");
            compared.add(new Compared(name, instructions, offAll[k], onAll[k], onAll[k] / offAll[k]));
            if (!json) {
                console.out.printf("%-14s %,14d %15.1f %15.1f %10.3f%n", name, instructions, offAll[k], onAll[k], onAll[k] / offAll[k]);
            }
        }
        double off = Statistics.median(offAll);
        double onMedian = Statistics.median(onAll);
        if (json) {
            jsonOption.print(console, (new Comparison("compare-" + what.toLowerCase(java.util.Locale.ROOT),
                    repeat, warmup, GuestTiming.jvmDescription(), compared, off, onMedian, onMedian / off)));
            return 0;
        }
        console.out.printf("median MIPS: %s off %.1f, %s on %.1f, ratio %.3f (repeat %d, warmup %d, %s)%n",
                what, off, what, onMedian, onMedian / off, repeat, warmup, GuestTiming.jvmDescription());
        return 0;
    }

    /** A line on stderr before each workload when stderr is a terminal: a default bench takes about 20 seconds. */
    private void progress(Path workload, int runs) {
        if (System.console() != null) { // a terminal: the JSON (or the table) still goes to stdout alone
            console.err.printf("lbrvmm: bench: %s: %d runs...%n", workload.getFileName().toString().replaceFirst("\\.conf$", ""), runs);
        }
    }
}
