package dev.lbrvmm.vmm.machine;

/**
 * How a guest run ended and the exit status {@code lbrvmm run} returns.
 *
 * @param status process exit status (0-255)
 */
public record MachineExit(Kind kind, int status, String message) {
    /** Exit status when the guest crashed (triple fault) or the interpreter failed: no guest status exists. */
    public static final int CRASH_STATUS = 125;

    public enum Kind {
        /** exit/exit_group through the Linux shim. */
        GUEST_EXIT,
        /** A write to isa-debug-exit. */
        DEBUG_EXIT,
        /** Every vCPU halted with nothing left to wake it. */
        HALTED,
        /** A vCPU triple-faulted. */
        TRIPLE_FAULT,
        /** The interpreter failed on an instruction. */
        INTERNAL_ERROR
    }
}
