package dev.lbrvmm.vmm.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs the CLI in-process with captured output. */
final class CliRunner {
    record Result(int status, String out, String err) {}

    static Path home() {
        return Path.of(System.getProperty("lbrvmm.home", "..")).toAbsolutePath().normalize();
    }

    /** configs/NAME.conf of the checkout, as a path string for the command line. */
    static String config(String name) {
        return home().resolve("configs/" + name + ".conf").toString();
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.execute(args, o, e);
        }
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
