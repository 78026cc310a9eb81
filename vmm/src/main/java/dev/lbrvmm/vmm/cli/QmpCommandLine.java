package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.monitor.client.QmpClient;
import dev.lbrvmm.monitor.client.QmpShell;
import dev.lbrvmm.monitor.netty.QmpAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lbrvmm qmp ADDRESS [--script FILE]}: the QMP shell and script runner. */
@Command(name = "qmp", mixinStandardHelpOptions = true,
        description = {"Connects to a QMP monitor (tcp:HOST:PORT or unix:PATH) and runs an interactive shell or a script.",
                "Lines are qmp-shell syntax (query-lbr cpu-index=0), raw JSON ({\"execute\": ...}), 'wait EVENT [SECONDS]', "
                        + "'sleep SECONDS', blank or # comments. A script stops at the first error and exits 1."})
final class QmpCommandLine implements Callable<Integer> {
    private final Main.Console console;

    @Parameters(index = "0", paramLabel = "ADDRESS", description = "tcp:HOST:PORT or unix:PATH, or as qmp-shell takes them: "
            + "HOST:PORT or a socket path.")
    String address;

    @Option(names = "--script", paramLabel = "FILE", description = "Run the lines of FILE instead of a shell.")
    Path script;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", description = "How long to retry connecting (default: ${DEFAULT-VALUE}).")
    double connectTimeout = 5;

    /** qmp-shell's forms: HOST:PORT (the part after the last colon is a number) or a socket path. */
    static String qemuSyntax(String address) {
        if (address.startsWith("tcp:") || address.startsWith("unix:")) {
            return address;
        }
        int colon = address.lastIndexOf(':');
        if (colon > 0 && !address.contains("/") && address.substring(colon + 1).matches("[0-9]+")) {
            return "tcp:" + address;
        }
        return "unix:" + address;
    }

    QmpCommandLine(Main.Console console) {
        this.console = console;
    }

    @Override
    public Integer call() {
        QmpAddress a;
        try {
            a = QmpAddress.parse(qemuSyntax(address));
        } catch (IllegalArgumentException e) {
            console.err.println("lbrvmm: qmp: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        try (QmpClient c = QmpClient.connect(a, Duration.ofMillis((long) (connectTimeout * 1000)))) {
            QmpShell shell = new QmpShell(c, console.out);
            if (script != null) {
                if (!Files.isRegularFile(script)) {
                    console.err.println("lbrvmm: qmp: script " + script + " does not exist");
                    return ExitCodes.BAD_INPUT;
                }
                return shell.script(script, Files.readAllLines(script), console.err);
            }
            return shell.interactive(Path.of(System.getProperty("user.home"), ".lbrvmm_qmp_history"), address);
        } catch (IOException e) {
            console.err.println("lbrvmm: qmp: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.INTERNAL;
        }
    }
}
