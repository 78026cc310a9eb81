package dev.lbrvmm.vmm.machine;

/**
 * How a guest run ended and the exit status {@code lbrvmm run} returns.
 *
 * @param status process exit status (0-255)
 */
public record MachineExit(Kind kind, int status, String message) {
    /** Exit status when the guest crashed (triple fault) or the interpreter failed: no guest status exists. */
    public static final int CRASH_STATUS = 125;
    /** Exit status when a guest output could not be written: an error of the run, like a bad input (1). */
    public static final int OUTPUT_ERROR_STATUS = 1;

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
        INTERNAL_ERROR,
        /** Writing the serial output or the program's stdout failed (disk full, /dev/full, closed pipe): the guest was stopped. */
        OUTPUT_ERROR
    }
}
