package dev.lbrvmm.vmm.bench;

import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineException;
import dev.lbrvmm.vmm.machine.MachineExit;
import dev.lbrvmm.vmm.machine.OutputTarget;
import java.nio.file.Path;
import java.util.List;

/**
 * Timed guest runs: each run builds a fresh machine from the config (not timed), runs the guest
 * to its exit (timed) and counts the instructions it retired. The guest's serial output is
 * discarded.
 */
public final class GuestTiming {
    private GuestTiming() {}

    /** One config's measurement: medians over the measured runs. */
    public record Result(String name, long instructions, double medianSeconds, double medianMips, int status) {}

    /** Where configs/ and examples/ live: the launcher passes -Dlbrvmm.home; else the working directory. */
    public static Path home() {
        String h = System.getProperty("lbrvmm.home");
        return h == null ? Path.of("").toAbsolutePath() : Path.of(h);
    }

    /** "OpenJDK 64-Bit Server VM 17.0.15": printed with every figure. */
    public static String jvmDescription() {
        return System.getProperty("java.vm.name") + " " + System.getProperty("java.version");
    }

    /** {@code warmup} unmeasured runs, then {@code repeat} measured ones. */
    public static Result measure(Path config, List<String> overrides, int warmup, int repeat) throws GuestConfigException, MachineException {
        GuestConfig loaded = GuestConfigLoader.load(config, overrides);
        GuestConfig cfg = loaded.withGuest(loaded.guest().withSerial(OutputTarget.NONE));
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
        return new Result(name, instructions, Statistics.median(secs), Statistics.median(mips), status);
    }
}
