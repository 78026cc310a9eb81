package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.machine.MachineExit;

/** Exit statuses of the command line that are not the guest's own. */
final class ExitCodes {
    private ExitCodes() {}

    /** A config, program or output file that cannot be used (the message says which and why). */
    static final int BAD_INPUT = 1;
    /** Bad command-line arguments. */
    static final int USAGE = 2;
    /** A defect in lbrvmm itself. */
    static final int INTERNAL = 70;
    /** The guest crashed (triple fault) or the interpreter failed on an instruction. */
    static final int GUEST_CRASHED = MachineExit.CRASH_STATUS;
}
