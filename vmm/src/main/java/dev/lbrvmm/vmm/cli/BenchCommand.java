package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineException;
import dev.lbrvmm.vmm.machine.MachineExit;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lbrvmm bench}: interpreter speed on a fixed workload. Each config is run to completion
 * {@code --warmup} times unmeasured, then {@code --repeat} times measured (only the guest run is
 * timed, not building the machine); the median per config and the median of those is printed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures guest instructions per second on a fixed workload",
                "(default: configs/loop.conf, fib.conf, sort.conf, dispatch.conf).",
                "Serial output of the guests is discarded."})
final class BenchCommand implements Callable<Integer> {
    static final List<String> DEFAULT_WORKLOAD = List.of("loop", "fib", "sort", "dispatch");

    private final Main.Console console;

    @Parameters(arity = "0..*", paramLabel = "CONFIG", description = "Guest configs to measure.")
    List<Path> configs = new ArrayList<>();

    @Option(names = "--repeat", description = "Measured runs per config (default: ${DEFAULT-VALUE}).")
    int repeat = 7;

    @Option(names = "--warmup", description = "Unmeasured runs per config first (default: ${DEFAULT-VALUE}).")
    int warmup = 3;

    @Option(names = "-o", paramLabel = "key=value", description = "Config override applied to every config.")
    List<String> overrides = new ArrayList<>();

    BenchCommand(Main.Console console) {
        this.console = console;
    }

    /** Where configs/ lives: the launcher passes -Dlbrvmm.home; else the working directory. */
    static Path home() {
        String h = System.getProperty("lbrvmm.home");
        return h == null ? Path.of("").toAbsolutePath() : Path.of(h);
    }

    /** One config's measurement. */
    record Result(String name, long instructions, double medianSeconds, double medianMips, int status) {}

    @Override
    public Integer call() {
        if (repeat < 1 || warmup < 0) {
            console.err.println("lbrvmm: bench: --repeat must be at least 1 and --warmup at least 0");
            return ExitCodes.USAGE;
        }
        List<Path> list = configs.isEmpty()
                ? DEFAULT_WORKLOAD.stream().map(n -> home().resolve("configs").resolve(n + ".conf")).toList()
                : configs;
        try {
            List<Result> results = new ArrayList<>();
            console.out.printf("%-14s %14s %10s %10s %7s%n", "workload", "instructions", "seconds", "MIPS", "status");
            for (Path p : list) {
                Result r = measure(p, overrides, warmup, repeat);
                results.add(r);
                console.out.printf("%-14s %,14d %10.4f %10.1f %7d%n", r.name(), r.instructions(), r.medianSeconds(), r.medianMips(), r.status());
            }
            double[] mips = results.stream().mapToDouble(Result::medianMips).toArray();
            console.out.printf("median MIPS over %d workloads: %.1f (repeat %d, warmup %d, %s)%n",
                    mips.length, median(mips), repeat, warmup, System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
            return 0;
        } catch (GuestConfigException | MachineException e) {
            console.err.println("lbrvmm: error: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
    }

    static Result measure(Path config, List<String> overrides, int warmup, int repeat) throws GuestConfigException, MachineException {
        GuestConfig cfg = GuestConfigLoader.load(config, overrides)
                .withSerial(new GuestConfig.SerialOutput(GuestConfig.SerialOutput.Kind.NONE, null));
        double[] secs = new double[repeat];
        double[] mips = new double[repeat];
        long instructions = 0;
        int status = 0;
        for (int i = 0; i < warmup + repeat; i++) {
            try (Machine m = Machine.create(cfg, System.out, System.err)) {
                long t0 = System.nanoTime();
                MachineExit exit = m.run();
                long t1 = System.nanoTime();
                instructions = m.instructionsRetired();
                status = exit.status();
                if (i >= warmup) {
                    double s = (t1 - t0) / 1e9;
                    secs[i - warmup] = s;
                    mips[i - warmup] = instructions / s / 1e6;
                }
            }
        }
        String name = config.getFileName().toString().replaceFirst("\\.conf$", "");
        return new Result(name, instructions, median(secs), median(mips), status);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
