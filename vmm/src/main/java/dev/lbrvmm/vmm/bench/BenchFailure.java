package dev.lbrvmm.vmm.bench;

/** A measurement that could not be made (a measuring JVM failed, a guest exited wrongly); the message says why. */
public final class BenchFailure extends Exception {
    private static final long serialVersionUID = 1L;

    public BenchFailure(String message) {
        super(message);
    }
}
