package dev.lbrvmm.vmm.kvm;

/** A refused KVM request, with the errno KVM would return and a reason a user can act on. */
public final class KvmException extends Exception {
    private static final long serialVersionUID = 1L;

    public final String errno;

    public KvmException(String errno, String message) {
        super(message);
        this.errno = errno;
    }

    @Override
    public String toString() {
        return errno + ": " + getMessage();
    }
}
