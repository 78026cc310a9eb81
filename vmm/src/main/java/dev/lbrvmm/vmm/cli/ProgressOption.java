package dev.lbrvmm.vmm.cli;

import picocli.CommandLine.Option;

/** {@code --[no-]progress}, shared by run, record and report. */
final class ProgressOption {
    @Option(names = "--progress", negatable = true,
            description = "Show progress on stderr while the work lasts more than a moment (default: when stderr is a terminal).")
    Boolean progress;

    boolean enabled() {
        return progress != null ? progress : System.console() != null;
    }
}
