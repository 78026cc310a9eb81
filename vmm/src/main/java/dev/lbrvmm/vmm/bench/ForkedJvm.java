package dev.lbrvmm.vmm.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A measuring JVM of its own, like JMH's forks: how well the JIT compiles the interpreter varies
 * from one JVM to the next by more than some effects being measured. The child runs with this
 * JVM's flags (the project's {@link JvmFlags} added if missing), its class path and lbrvmm.home.
 */
public final class ForkedJvm {
    private ForkedJvm() {}

    /** The java command line that runs {@code mainClass} with {@code args} in a new JVM. */
    public static List<String> command(Class<?> mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        List<String> flags = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // the children must not record a CDS archive or profile themselves
            if (!a.startsWith("-XX:ArchiveClassesAtExit") && !a.startsWith("-agent") && !a.startsWith("-XX:StartFlightRecording")) {
                flags.add(a);
            }
        }
        for (String f : JvmFlags.args()) {
            if (!flags.contains(f)) {
                flags.add(f);
            }
        }
        cmd.addAll(flags);
        cmd.add("-Dlbrvmm.home=" + GuestTiming.home()); // set in this JVM maybe not by a flag (tests)
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** This JVM's java launcher. */
    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Runs the command to its end and returns what it printed on stdout.
     *
     * @param what names the measurement in errors ("the JVM measuring mode X")
     */
    public static String run(List<String> command, String what) throws BenchFailure {
        try {
            Process p = new ProcessBuilder(command).start();
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = p.waitFor();
            String errText = new String(err.join(), StandardCharsets.UTF_8).strip();
            if (status != 0) {
                throw new BenchFailure(what + " exited with status " + status + (errText.isEmpty() ? "" : ": " + errText));
            }
            return out;
        } catch (IOException e) {
            throw new BenchFailure("cannot start a JVM: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted");
        }
    }
}
