package dev.lbrvmm.vmm.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --log FILE}, shared by run and record: warnings and LBRVMM_LOG's messages go to FILE instead of stderr. */
final class LogOption {
    @Option(names = "--log", paramLabel = "FILE", description = "Append the VMM's log (warnings; more with LBRVMM_LOG=debug) "
            + "to FILE instead of stderr, e.g. for a VMM in the background.")
    Path file;

    private Runnable restore;

    /** Redirects the log when --log was given; the message says why it could not be. */
    void apply() throws IOException {
        if (file != null) {
            try {
                restore = LogConfigurator.toFile(file);
            } catch (IOException e) {
                throw new IOException("--log " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Back to stderr (for in-process callers; a process that exits needs nothing). */
    void restore() {
        if (restore != null) {
            restore.run();
            restore = null;
        }
    }
}
