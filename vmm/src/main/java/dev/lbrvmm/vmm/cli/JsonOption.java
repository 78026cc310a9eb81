package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.monitor.ReplyJson;
import picocli.CommandLine.Option;

/** {@code --json} for the bench commands: the results as one JSON object (kebab-case members) when all runs are done. */
final class JsonOption {
    @Option(names = "--json", description = "Print the results as one JSON object when all runs are done instead of text "
            + "(the schema is in the README).")
    boolean json;

    /** Prints the value as one line of JSON. */
    void print(Main.Console console, Object value) {
        console.out.println(ReplyJson.text(value));
    }
}
