package dev.lbrvmm.monitor;

/** A QMP error reply: class (QapiErrorClass) and a human-readable description. */
public final class QmpError extends Exception {
    private static final long serialVersionUID = 1L;

    public enum ErrorClass { GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap }

    private final ErrorClass errorClass;

    public QmpError(ErrorClass errorClass, String desc) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
    }

    public static QmpError generic(String desc) {
        return new QmpError(ErrorClass.GenericError, desc);
    }

    public ErrorClass errorClass() {
        return errorClass;
    }

    public String desc() {
        return getMessage();
    }
}
