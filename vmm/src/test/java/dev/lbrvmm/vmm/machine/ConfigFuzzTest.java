package dev.lbrvmm.vmm.machine;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest configs and {@code -o} values from the fuzzer: reading them ends in a config or a
 * {@link GuestConfigException}; a config that reads is then built into a machine (and run for a
 * few slices), which ends in a machine or a {@link MachineException}. The example configs are the
 * seeds (GuestConfigFuzzTestInputs); nothing else may escape, whatever the nesting, numbers or
 * includes.
 */
class ConfigFuzzTest {
    private static final Path HOME = Path.of("").toAbsolutePath().getParent();
    private static final PrintStream DISCARD = new PrintStream(OutputStream.nullOutputStream());
    private static Path dir;

    private static synchronized Path dir() throws Exception {
        if (dir == null) {
            dir = Files.createTempDirectory("lbrvmm-config-fuzz");
            Files.createDirectories(dir.resolve("configs"));
            // configs name programs relative to themselves: ../examples/bin/... must resolve
            Files.createSymbolicLink(dir.resolve("examples"), HOME.resolve("examples"));
        }
        return dir;
    }

    private static void buildAndRun(GuestConfig cfg) {
        if (cfg.guest().memory() > (64 << 20) || cfg.guest().serial().kind() == OutputTarget.Kind.FILE
                || (cfg.program().stdout() != null && cfg.program().stdout().kind() == OutputTarget.Kind.FILE)) {
            return; // big guests cost time, not coverage; and the fuzzer must not write files wherever a config says
        }
        try (Machine m = Machine.create(cfg, DISCARD, DISCARD)) {
            int[] slices = {0};
            m.runUntil(() -> ++slices[0] > 4);
        } catch (MachineException expected) {
            // a clear error is the other good outcome
        }
    }

    @FuzzTest(maxDuration = "10m")
    void configFile(byte[] text) throws Exception {
        Path f = dir().resolve("configs/fuzz.conf");
        Files.write(f, text);
        try {
            buildAndRun(GuestConfigLoader.load(f, List.of()));
        } catch (GuestConfigException expected) {
            // a clear error is the other good outcome
        }
    }

    @FuzzTest(maxDuration = "10m")
    void overrides(FuzzedDataProvider p) throws Exception {
        List<String> o = new ArrayList<>();
        int n = p.consumeInt(1, 4);
        for (int i = 0; i < n; i++) {
            o.add(p.consumeString(200));
        }
        try {
            buildAndRun(GuestConfigLoader.load(HOME.resolve("configs/fib.conf"), o));
        } catch (GuestConfigException expected) {
            // a clear error is the other good outcome
        }
    }
}
