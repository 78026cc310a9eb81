package dev.lbrvmm.vmm.host;

/**
 * perf's per-task LBR context data (x86_perf_task_context): the saved call stack, its state and
 * log id, and counters of the work the host did for this task (struct x86_perf_task_context_opt in perf's lbr.c).
 */
public final class TaskLbrContext {
    boolean valid;
    long[][] saved;
    int validLbrs;
    int tos;
    long lbrSelect;
    long logId;

    long saves;
    long restores;
    long skippedRestores;
    long resets;
    long msrReads;
    long msrWrites;

    /** The saved stack is VALID (taken at sched-out, not yet restored). */
    public boolean valid() {
        return valid;
    }

    public long[][] saved() {
        return saved;
    }

    public int savedTos() {
        return tos;
    }

    public long savedLbrSelect() {
        return lbrSelect;
    }

    public long saves() {
        return saves;
    }

    public long restores() {
        return restores;
    }

    public long skippedRestores() {
        return skippedRestores;
    }

    public long resets() {
        return resets;
    }

    /** RDMSRs of LBR MSRs perf did for this task (saves, restore checks). */
    public long msrReads() {
        return msrReads;
    }

    /** WRMSRs of LBR MSRs perf did for this task (restores, resets). */
    public long msrWrites() {
        return msrWrites;
    }
}
