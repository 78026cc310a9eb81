package dev.lbrvmm.monitor;

/** A QMP error reply: class (QapiErrorClass) and a human-readable description. */
public final class QmpError extends Exception {
    private static final long serialVersionUID = 1L;

    public enum ErrorClass { GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap }

    /** Longest client-supplied value an error message repeats in full (see {@link #echo}). */
    public static final int MAX_ECHO = 128;
    /** Longest description sent; longer ones are cut (a backstop for echoes not made through {@link #echo}). */
    public static final int MAX_DESC = 1024;

    private final ErrorClass errorClass;

    public QmpError(ErrorClass errorClass, String desc) {
        super(cut(desc, MAX_DESC), null, false, false);
        this.errorClass = errorClass;
    }

    /**
     * A client-supplied value for an error message, cut to {@link #MAX_ECHO} characters: QEMU repeats
     * values whole, but a 60 MiB argument would make a reply no client should have to take.
     */
    public static String echo(String value) {
        return cut(value, MAX_ECHO);
    }

    private static String cut(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        return s.substring(0, max) + "... (" + s.length() + " characters)";
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
