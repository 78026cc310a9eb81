package dev.lbrvmm.monitor.client;

/** An error reply: the server's error class and description. */
public final class QmpClientException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String errorClass;

    public QmpClientException(String errorClass, String desc) {
        super(errorClass + ": " + desc);
        this.errorClass = errorClass;
    }

    public String errorClass() {
        return errorClass;
    }
}
