package dev.lbrvmm.vmm.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code -o key=value}, shared by run and the bench commands: config keys set on the command line. */
final class ConfigOverrides {
    @Option(names = "-o", paramLabel = "key=value",
            description = "Override any config key (repeatable), e.g. -o guest.vcpus=2 or -o 'guest.msrs.\"0x1d9\"=1'.")
    List<String> values = new ArrayList<>();

    /** The overrides followed by {@code more}. */
    List<String> with(List<String> more) {
        List<String> all = new ArrayList<>(values);
        all.addAll(more);
        return all;
    }
}
