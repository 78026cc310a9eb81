package dev.lbrvmm.vmm.machine;

/** The machine cannot be built from its config (program, MSR values, KVM refusals, output files). */
public final class MachineException extends Exception {
    private static final long serialVersionUID = 1L;

    public MachineException(String message) {
        super(message);
    }
}
