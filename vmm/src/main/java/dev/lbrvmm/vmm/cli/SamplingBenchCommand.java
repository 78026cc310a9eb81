package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.MachineException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lbrvmm bench sampling}: what branch-stack sampling costs the guest. The sampling guest
 * (configs/lbr_sample.conf, fib(24) + the dispatcher, {@code --rounds} times) runs in three modes,
 * alternating within each round so drift hits all alike: no LBR and no counter ("0 0"), LBR on
 * without sampling ("0 1"), and a PMI every {@code --period} branches that reads and sends the
 * 32-entry stack. Only the guest run is timed; the serial stream is discarded.
 */
@Command(name = "sampling", mixinStandardHelpOptions = true,
        description = {"Measures the cost of LBR sampling (a PMI every --period branches reading the whole stack)",
                "against the same guest with LBR on and no sampling, and with neither."})
final class SamplingBenchCommand implements Callable<Integer> {
    private final Main.Console console;

    @Option(names = "--period", description = "Branches between samples (default: ${DEFAULT-VALUE}).")
    long period = 10_000;

    @Option(names = "--rounds", description = "Workload repetitions inside one guest run (default: ${DEFAULT-VALUE}).")
    int rounds = 20;

    @Option(names = "--repeat", description = "Measured runs per mode (default: ${DEFAULT-VALUE}).")
    int repeat = 11;

    @Option(names = "--warmup", description = "Unmeasured runs per mode first (default: ${DEFAULT-VALUE}).")
    int warmup = 3;

    @Option(names = "-o", paramLabel = "key=value", description = "Config override applied to every run.")
    List<String> overrides = new ArrayList<>();

    SamplingBenchCommand(Main.Console console) {
        this.console = console;
    }

    record Mode(String name, String args) {}

    @Override
    public Integer call() {
        if (period < 1 || rounds < 1 || repeat < 1 || warmup < 0) {
            console.err.println("lbrvmm: bench sampling: --period, --rounds and --repeat must be at least 1, --warmup at least 0");
            return ExitCodes.USAGE;
        }
        List<Mode> modes = List.of(new Mode("no LBR, no sampling", "0\", \"0"), new Mode("LBR on, no sampling", "0\", \"1"),
                new Mode("sampling every " + String.format(Locale.ROOT, "%,d", period), period + "\", \"1"));
        Path config = BenchCommand.home().resolve("configs/lbr_sample.conf");
        double[][] secs = new double[modes.size()][repeat];
        long[] instructions = new long[modes.size()];
        try {
            for (int i = 0; i < warmup + repeat; i++) {
                for (int m = 0; m < modes.size(); m++) {
                    List<String> o = new ArrayList<>(overrides);
                    o.add("guest.program.args=[\"" + modes.get(m).args() + "\", \"" + rounds + "\"]");
                    o.add("guest.program.stdout=none");
                    BenchCommand.Result r = BenchCommand.measure(config, o, 0, 1);
                    if (r.status() != 0) {
                        console.err.println("lbrvmm: bench sampling: the guest exited with status " + r.status() + " in mode " + modes.get(m).name());
                        return ExitCodes.INTERNAL;
                    }
                    instructions[m] = r.instructions();
                    if (i >= warmup) {
                        secs[m][i - warmup] = r.medianSeconds();
                    }
                }
            }
        } catch (GuestConfigException | MachineException e) {
            console.err.println("lbrvmm: bench sampling: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
        double[] median = new double[modes.size()];
        console.out.printf("%-26s %14s %10s %10s%n", "mode", "instructions", "seconds", "MIPS");
        for (int m = 0; m < modes.size(); m++) {
            median[m] = BenchCommand.median(secs[m]);
            console.out.printf(Locale.ROOT, "%-26s %,14d %10.4f %10.1f%n", modes.get(m).name(), instructions[m], median[m],
                    instructions[m] / median[m] / 1e6);
        }
        // Paired ratios: the three modes of one round ran back to back, so machine drift cancels.
        double[] vsLbr = new double[repeat];
        double[] vsNone = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            vsLbr[i] = secs[2][i] / secs[1][i];
            vsNone[i] = secs[2][i] / secs[0][i];
        }
        double a = BenchCommand.median(vsLbr);
        double b = BenchCommand.median(vsNone);
        console.out.printf(Locale.ROOT, "sampling cost (median of paired ratios): vs LBR on without sampling %+.1f%% run time (%.3fx), "
                        + "vs no LBR %+.1f%% (%.3fx); the handler adds %.1f%% instructions (rounds %d, repeat %d, warmup %d)%n",
                100 * (a - 1), a, 100 * (b - 1), b, 100.0 * (instructions[2] - instructions[1]) / instructions[1], rounds, repeat, warmup);
        return 0;
    }
}
