package dev.lbrvmm.vmm.machine;

/** A guest program that cannot be loaded; the message names the file and what is wrong with it. */
public final class ProgramLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProgramLoadException(String message) {
        super(message);
    }
}
