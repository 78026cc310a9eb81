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

    @Option(names = "--compare-engines", description = "Measure each workload under the interpreter and the translating engine "
            + "(guest.cpu.engine), each with LBR off and on, in alternating runs, and print the four MIPS and the ratios.")
    boolean compareEngines;

    @Mixin
    JsonOption jsonOption = new JsonOption();

    /** {@code bench --json}: per workload the median of the measured runs. */
    record Mips(String mode, int repeat, int warmup, String jvm, List<Workload> workloads, double medianMips) {}

    record Workload(String name, long instructions, double seconds, double mips, int status) {}

    /** {@code bench --compare-lbr/--compare-paging --json}: per workload the medians off and on, and their ratio. */
    record Comparison(String mode, int repeat, int warmup, String jvm, List<Compared> workloads, double medianMipsOff,
            double medianMipsOn, double ratio) {}

    record Compared(String name, long instructions, double mipsOff, double mipsOn, double ratio) {}

    /** {@code bench --compare-engines --json}: per workload the median MIPS of each engine with LBR off and on. */
    record EngineComparison(String mode, int repeat, int warmup, String jvm, List<EnginesCompared> workloads,
            double medianInterpreterLbrOff, double medianInterpreterLbrOn, double medianJitLbrOff, double medianJitLbrOn,
            double ratioLbrOff, double ratioLbrOn) {}

    record EnginesCompared(String name, long instructions, double interpreterLbrOff, double interpreterLbrOn, double jitLbrOff,
            double jitLbrOn, double ratioLbrOff, double ratioLbrOn) {}

    /** Overrides that run guest code under the translating engine. */
    static final List<String> JIT = List.of("guest.cpu.engine=jit");

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
            if ((compareLbr ? 1 : 0) + (comparePaging ? 1 : 0) + (compareEngines ? 1 : 0) > 1) {
                console.err.println("lbrvmm: bench: --compare-lbr, --compare-paging and --compare-engines are separate measurements; give one");
                return ExitCodes.USAGE;
            }
            if (compareEngines) {
                return compareEngines(list);
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

    /**
     * Each workload under the interpreter and the translating engine, each with LBR off and on:
     * the four configurations run one after the other, round after round, so that a noisy
     * neighbour slows them alike; medians of the measured rounds.
     */
    private int compareEngines(List<Path> list) throws GuestConfigException, MachineException {
        boolean json = jsonOption.json;
        List<List<String>> settings = List.of(overrides.with(List.of("guest.cpu.engine=interpreter")),
                overrides.with(concat(List.of("guest.cpu.engine=interpreter"), LBR_ON)), overrides.with(JIT),
                overrides.with(concat(JIT, LBR_ON)));
        int repeat = runs.repeat;
        int warmup = runs.warmup;
        if (!json) {
            console.out.printf("%-14s %14s %12s %12s %12s %12s %9s %9s%n", "workload", "instructions", "interp", "interp+LBR", "jit",
                    "jit+LBR", "jit/int", "+LBR");
        }
        List<EnginesCompared> compared = new ArrayList<>();
        double[][] all = new double[4][list.size()];
        for (int k = 0; k < list.size(); k++) {
            Path p = list.get(k);
            progress(p, 4 * (warmup + repeat));
            double[][] mips = new double[4][repeat];
            long instructions = 0;
            for (int i = 0; i < warmup + repeat; i++) {
                for (int c = 0; c < 4; c++) {
                    GuestTiming.Result r = GuestTiming.measure(p, settings.get(c), 0, 1);
                    instructions = r.instructions();
                    if (i >= warmup) {
                        mips[c][i - warmup] = r.medianMips();
                    }
                }
            }
            for (int c = 0; c < 4; c++) {
                all[c][k] = Statistics.median(mips[c]);
            }
            String name = p.getFileName().toString().replaceFirst("\\.conf$", "");
            EnginesCompared e = new EnginesCompared(name, instructions, all[0][k], all[1][k], all[2][k], all[3][k], all[2][k] / all[0][k],
                    all[3][k] / all[1][k]);
            compared.add(e);
            if (!json) {
                console.out.printf("%-14s %,14d %12.1f %12.1f %12.1f %12.1f %9.2f %9.2f%n", name, instructions, e.interpreterLbrOff(),
                        e.interpreterLbrOn(), e.jitLbrOff(), e.jitLbrOn(), e.ratioLbrOff(), e.ratioLbrOn());
            }
        }
        double[] m = new double[4];
        for (int c = 0; c < 4; c++) {
            m[c] = Statistics.median(all[c]);
        }
        double ratioOff = Statistics.median(compared.stream().mapToDouble(EnginesCompared::ratioLbrOff).toArray());
        double ratioOn = Statistics.median(compared.stream().mapToDouble(EnginesCompared::ratioLbrOn).toArray());
        if (json) {
            jsonOption.print(console, new EngineComparison("compare-engines", repeat, warmup, GuestTiming.jvmDescription(), compared,
                    m[0], m[1], m[2], m[3], ratioOff, ratioOn));
            return 0;
        }
        console.out.printf("median MIPS: interpreter %.1f (LBR on %.1f), jit %.1f (LBR on %.1f); median jit/interpreter ratio %.2f "
                + "with LBR off, %.2f with LBR on (repeat %d, warmup %d, %s)%n", m[0], m[1], m[2], m[3], ratioOff, ratioOn, repeat, warmup,
                GuestTiming.jvmDescription());
        return 0;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** A line on stderr before each workload when stderr is a terminal: a default bench takes about 20 seconds. */
    private void progress(Path workload, int runs) {
        if (System.console() != null) { // a terminal: the JSON (or the table) still goes to stdout alone
            console.err.printf("lbrvmm: bench: %s: %d runs...%n", workload.getFileName().toString().replaceFirst("\\.conf$", ""), runs);
        }
    }
}
