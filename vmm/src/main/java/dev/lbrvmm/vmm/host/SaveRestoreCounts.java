package dev.lbrvmm.vmm.host;

/**
 * What saving and restoring a task's LBR stack cost, as it is counted: saves, restores (and those
 * skipped because nothing touched the LBR), resets, and the LBR MSR reads and writes they made.
 * Kept per task by perf's context switch and, for the eager design, by KVM itself; read as
 * {@link Totals}.
 */
public final class SaveRestoreCounts {
    long saves;
    long restores;
    long skippedRestores;
    long resets;
    long msrReads;
    long msrWrites;

    /** A whole stack was saved with {@code reads} RDMSRs. */
    public void saved(long reads) {
        saves++;
        msrReads += reads;
    }

    /** A whole stack was written back with {@code writes} WRMSRs. */
    public void restored(long writes) {
        restores++;
        msrWrites += writes;
    }

    public Totals totals() {
        return new Totals(saves, restores, skippedRestores, resets, msrReads, msrWrites);
    }

    /**
     * The counts at one moment.
     *
     * @param msrReads  RDMSRs of LBR MSRs (saves, restore checks)
     * @param msrWrites WRMSRs of LBR MSRs (restores, resets)
     */
    public record Totals(long saves, long restores, long skippedRestores, long resets, long msrReads, long msrWrites) {
        public static final Totals NONE = new Totals(0, 0, 0, 0, 0, 0);

        /** Every LBR MSR access made to save and restore. */
        public long msrAccesses() {
            return msrReads + msrWrites;
        }

        public Totals plus(Totals o) {
            return new Totals(saves + o.saves, restores + o.restores, skippedRestores + o.skippedRestores, resets + o.resets,
                    msrReads + o.msrReads, msrWrites + o.msrWrites);
        }
    }
}
