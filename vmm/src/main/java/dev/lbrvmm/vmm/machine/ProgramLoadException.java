package dev.lbrvmm.vmm.machine;

/** A guest program that cannot be loaded; the message names the file and what is wrong with it. */
public final class ProgramLoadException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String configKey;

    public ProgramLoadException(String message) {
        this(message, null);
    }

    /** @param configKey the config key whose value made loading fail (its origin is added to the message), or null */
    public ProgramLoadException(String message, String configKey) {
        super(message);
        this.configKey = configKey;
    }

    public String configKey() {
        return configKey;
    }
}
