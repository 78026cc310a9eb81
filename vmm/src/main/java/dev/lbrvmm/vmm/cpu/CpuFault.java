package dev.lbrvmm.vmm.cpu;

/**
 * A guest exception raised while executing an instruction. Thrown without a stack trace: it is
 * control flow inside the interpreter, never a VMM error. MSR handlers outside this package raise
 * #GP with {@link #gp()}.
 */
public final class CpuFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public final int vector;
    public final long errorCode;
    /** Faulting linear address for #PF (CR2). */
    public final long address;

    public CpuFault(int vector, long errorCode, long address) {
        super(Vector.name(vector), null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
        this.address = address;
    }

    private static final CpuFault GP0 = new CpuFault(Vector.GP, 0, 0);
    private static final CpuFault UD = new CpuFault(Vector.UD, 0, 0);
    private static final CpuFault DE = new CpuFault(Vector.DE, 0, 0);

    /** #GP(0); shared, immutable. */
    public static CpuFault gp() {
        return GP0;
    }

    public static CpuFault ud() {
        return UD;
    }

    public static CpuFault de() {
        return DE;
    }
}
