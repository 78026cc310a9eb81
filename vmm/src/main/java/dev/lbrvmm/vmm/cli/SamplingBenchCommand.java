package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.bench.BenchFailure;
import dev.lbrvmm.vmm.bench.ForkedJvm;
import dev.lbrvmm.vmm.bench.GuestTiming;
import dev.lbrvmm.vmm.bench.Statistics;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.MachineException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lbrvmm bench sampling}: what branch-stack sampling costs the guest. The sampling guest
 * (configs/lbr_sample.conf, fib(24) + the dispatcher, {@code --rounds} times) runs in three modes:
 * no LBR and no counter ("0 0"), LBR on without sampling ("0 0x801"), and a PMI every
 * {@code --period} branches that reads and sends the whole stack. Only the guest run is timed;
 * the serial stream is discarded.
 *
 * <p>Each mode runs in its own JVM ({@code --forks} of each, like JMH's forks): how fast the JIT
 * compiles the interpreter differs from one JVM to the next by about as much as the effect being
 * measured, so modes sharing one JVM (or one JVM per mode) would measure the JIT, not sampling.
 * Per fork round the three modes run back to back; the figure is the median of those rounds'
 * ratios.
 */
@Command(name = "sampling", mixinStandardHelpOptions = true,
        description = "Measures the cost of LBR sampling (a PMI every --period branches reading the whole stack) against the "
                + "same guest with LBR on and no sampling, and with neither; each mode in its own JVMs.")
final class SamplingBenchCommand implements Callable<Integer> {
    private final Main.Console console;

    @Option(names = "--period", paramLabel = "N", description = "Branches between samples (default: ${DEFAULT-VALUE}).")
    long period = 10_000;

    @Option(names = "--rounds", paramLabel = "N", description = "Workload repetitions inside one guest run (default: ${DEFAULT-VALUE}).")
    int rounds = 20;

    @Option(names = "--forks", paramLabel = "N", description = "JVMs per mode (default: ${DEFAULT-VALUE}; 0 = all modes in this JVM, alternating).")
    int forks = 7;

    /** Measured runs per JVM and mode, after the warm-up runs. */
    @Mixin
    MeasuredRuns runs = new MeasuredRuns(5, 3);

    @Mixin
    ConfigOverrides overrides = new ConfigOverrides();

    /** Internal: run only this mode and print "instructions seconds" per measured run. */
    @Option(names = "--child", hidden = true)
    Integer child;

    SamplingBenchCommand(Main.Console console) {
        this.console = console;
    }

    record Mode(String name, String args) {}

    private List<Mode> modes() {
        return List.of(new Mode("no LBR, no sampling", "0\", \"0"), new Mode("LBR on, no sampling", "0\", \"0x801"),
                new Mode("sampling every " + String.format(Locale.ROOT, "%,d", period), period + "\", \"0x801"));
    }

    /** One mode's measured runs. */
    record Runs(long instructions, double[] seconds) {}

    @Override
    public Integer call() {
        if (period < 1 || period > Integer.MAX_VALUE || rounds < 1 || runs.repeat < 1 || runs.warmup < 0 || forks < 0) {
            console.err.println("lbrvmm: bench sampling: --period must be 1 to 2147483647 (the guest writes it to a counter as 32 bits), "
                    + "--rounds and --repeat at least 1, --warmup and --forks at least 0");
            return ExitCodes.USAGE;
        }
        try {
            if (child != null) {
                Runs r = runMode(child, runs.warmup, runs.repeat);
                for (double s : r.seconds()) {
                    console.out.println(r.instructions() + " " + s);
                }
                return 0;
            }
            return forks == 0 ? inProcess() : forked();
        } catch (GuestConfigException | MachineException | BenchFailure e) {
            console.err.println("lbrvmm: bench sampling: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
    }

    private Runs runMode(int m, int warm, int measured) throws GuestConfigException, MachineException, BenchFailure {
        Mode mode = modes().get(m);
        Path config = GuestTiming.home().resolve("configs/lbr_sample.conf");
        List<String> o = new ArrayList<>(overrides.values);
        o.add("guest.program.args=[\"" + mode.args() + "\", \"" + rounds + "\"]");
        o.add("guest.program.stdout=none");
        double[] secs = new double[measured];
        long instructions = 0;
        for (int i = 0; i < warm + measured; i++) {
            GuestTiming.Result r = GuestTiming.measure(config, o, 0, 1);
            if (r.status() != 0) {
                throw new BenchFailure("the guest exited with status " + r.status() + " in mode " + mode.name());
            }
            instructions = r.instructions();
            if (i >= warm) {
                secs[i - warm] = r.medianSeconds();
            }
        }
        return new Runs(instructions, secs);
    }

    /** All modes in this JVM, alternating run by run. */
    private int inProcess() throws GuestConfigException, MachineException, BenchFailure {
        int n = modes().size();
        double[][] rows = new double[n][runs.repeat];
        long[] instructions = new long[n];
        for (int i = 0; i < runs.warmup + runs.repeat; i++) {
            for (int m = 0; m < n; m++) {
                Runs r = runMode(m, 0, 1);
                instructions[m] = r.instructions();
                if (i >= runs.warmup) {
                    rows[m][i - runs.warmup] = r.seconds()[0];
                }
            }
        }
        print(rows, instructions, "runs alternating in one JVM, repeat " + runs.repeat + ", warmup " + runs.warmup);
        return 0;
    }

    /** Each mode in its own JVMs; fork round f runs the modes back to back, in a rotating order. */
    private int forked() throws BenchFailure {
        int n = modes().size();
        double[][] rows = new double[n][forks];
        long[] instructions = new long[n];
        for (int f = 0; f < forks; f++) {
            for (int k = 0; k < n; k++) {
                int m = (k + f) % n;
                Runs r = fork(m);
                instructions[m] = r.instructions();
                rows[m][f] = Statistics.median(r.seconds());
            }
            console.err.printf("lbrvmm: bench sampling: fork round %d of %d done%n", f + 1, forks);
        }
        print(rows, instructions, forks + " JVMs per mode, each median of " + runs.repeat + " runs after " + runs.warmup + " warm-up");
        return 0;
    }

    private Runs fork(int m) throws BenchFailure {
        List<String> args = new ArrayList<>(List.of("bench", "sampling", "--child", Integer.toString(m), "--period", Long.toString(period),
                "--rounds", Integer.toString(rounds), "--repeat", Integer.toString(runs.repeat), "--warmup", Integer.toString(runs.warmup)));
        for (String o : overrides.values) {
            args.add("-o");
            args.add(o);
        }
        String what = "the JVM measuring mode " + modes().get(m).name();
        String out = ForkedJvm.run(ForkedJvm.command(Main.class, args), what);
        try {
            List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
            double[] secs = new double[lines.size()];
            long instructions = 0;
            for (int i = 0; i < lines.size(); i++) {
                String[] w = lines.get(i).trim().split(" ");
                instructions = Long.parseLong(w[0]);
                secs[i] = Double.parseDouble(w[1]);
            }
            if (secs.length != runs.repeat) {
                throw new BenchFailure(what + " printed " + secs.length + " runs, not " + runs.repeat);
            }
            return new Runs(instructions, secs);
        } catch (NumberFormatException e) {
            throw new BenchFailure("a measuring JVM printed something unexpected: " + e.getMessage());
        }
    }

    @Mixin
    JsonOption json = new JsonOption();

    /** {@code bench sampling --json}: per mode the median seconds and MIPS; the medians of the per-round run-time ratios. */
    record Result(long period, int rounds, String how, String jvm, List<ModeResult> modes, double ratioVsLbr, double ratioVsLbrMin,
            double ratioVsLbrMax, double ratioVsNoLbr, double handlerInstructionShare) {}

    record ModeResult(String name, long instructions, double seconds, double mips) {}

    /** Per mode: median seconds and MIPS; then the median (and range) of the per-round ratios. */
    private void print(double[][] rows, long[] instructions, String how) {
        List<Mode> modes = modes();
        List<ModeResult> results = new ArrayList<>();
        if (!json.json) {
            console.out.printf("%-26s %14s %10s %10s%n", "mode", "instructions", "seconds", "MIPS");
        }
        for (int m = 0; m < modes.size(); m++) {
            double med = Statistics.median(rows[m]);
            results.add(new ModeResult(modes.get(m).name(), instructions[m], med, instructions[m] / med / 1e6));
            if (!json.json) {
                console.out.printf(Locale.ROOT, "%-26s %,14d %10.4f %10.1f%n", modes.get(m).name(), instructions[m], med,
                        instructions[m] / med / 1e6);
            }
        }
        int n = rows[0].length;
        double[] vsLbr = new double[n];
        double[] vsNone = new double[n];
        for (int i = 0; i < n; i++) {
            vsLbr[i] = rows[2][i] / rows[1][i];
            vsNone[i] = rows[2][i] / rows[0][i];
        }
        double a = Statistics.median(vsLbr);
        double b = Statistics.median(vsNone);
        if (json.json) {
            json.print(console, new Result(period, rounds, how, GuestTiming.jvmDescription(), results, a,
                    Statistics.min(vsLbr), Statistics.max(vsLbr), b, (double) (instructions[2] - instructions[1]) / instructions[1]));
            return;
        }
        console.out.printf(Locale.ROOT, "sampling cost: vs LBR on without sampling %+.1f%% run time (%.3fx; rounds ranged %.3f-%.3f), "
                        + "vs no LBR %+.1f%% (%.3fx); the handler adds %.1f%% instructions (guest rounds %d; %s; %s)%n",
                100 * (a - 1), a, Statistics.min(vsLbr), Statistics.max(vsLbr), 100 * (b - 1), b,
                100.0 * (instructions[2] - instructions[1]) / instructions[1], rounds, how,
                GuestTiming.jvmDescription());
    }
}
