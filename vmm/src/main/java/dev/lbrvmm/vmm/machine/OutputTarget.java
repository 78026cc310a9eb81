package dev.lbrvmm.vmm.machine;

import java.nio.file.Path;

/**
 * Where a guest output stream goes ({@code guest.serial.output}, {@code guest.program.stdout}):
 * stdout, stderr, nowhere, or a file.
 *
 * @param file null unless kind is FILE
 */
public record OutputTarget(Kind kind, Path file) {
    public enum Kind { STDOUT, STDERR, NONE, FILE }

    public static final OutputTarget NONE = new OutputTarget(Kind.NONE, null);

    /** stdout, stderr, none or a file path (relative to the file that set it). */
    static OutputTarget from(ConfigReader r, String key) throws GuestConfigException {
        String out = r.string(key);
        return switch (out) {
            case "stdout" -> new OutputTarget(Kind.STDOUT, null);
            case "stderr" -> new OutputTarget(Kind.STDERR, null);
            case "none" -> NONE;
            default -> {
                if (out.isEmpty()) {
                    throw r.bad(key, "must be stdout, stderr, none or a file path");
                }
                yield new OutputTarget(Kind.FILE, r.relativePath(key));
            }
        };
    }
}
