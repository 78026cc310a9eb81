package dev.lbrvmm.vmm.cpu;

/**
 * Counts branches retired (taken or not; interrupt and exception deliveries included, as the
 * branch hook sees them) and runs an alarm when the count reaches a limit: how a vPMU branch
 * counter overflows at the exact branch without a listener call on every branch. A final class,
 * so the interpreter's call inlines to an increment and a compare.
 */
public final class BranchCounter {
    private long count;
    private long alarmAt = Long.MAX_VALUE;
    private final Runnable alarm;

    public BranchCounter(Runnable alarm) {
        this.alarm = alarm;
    }

    void count() {
        if (++count == alarmAt) {
            alarm.run();
        }
    }

    /** Branches counted since the last call; the count starts again from 0. */
    public long take() {
        long n = count;
        count = 0;
        return n;
    }

    /** The alarm runs when this many more branches have been counted (Long.MAX_VALUE = never). */
    public void alarmAfter(long branches) {
        alarmAt = branches == Long.MAX_VALUE ? Long.MAX_VALUE : count + branches;
    }
}
