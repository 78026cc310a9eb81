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

    /** The work the host did for this task. */
    final SaveRestoreCounts counts = new SaveRestoreCounts();

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

    public SaveRestoreCounts counts() {
        return counts;
    }
}
