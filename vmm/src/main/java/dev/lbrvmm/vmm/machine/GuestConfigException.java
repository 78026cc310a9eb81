package dev.lbrvmm.vmm.machine;

/** A config that cannot be used; the message names the file, line and key. */
public final class GuestConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public GuestConfigException(String message) {
        super(message);
    }
}
