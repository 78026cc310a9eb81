package dev.lbrvmm.vmm.report;

/** A sample file or LBR dump that cannot be read; the message names the file and the place. */
public final class ReportInputException extends Exception {
    private static final long serialVersionUID = 1L;

    public ReportInputException(String message) {
        super(message);
    }
}
