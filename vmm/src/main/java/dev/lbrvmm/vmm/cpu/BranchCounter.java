package dev.lbrvmm.vmm.cpu;

/**
 * A count of branches retired (taken or not; interrupt and exception deliveries included, as the
 * branch hook sees them) on the CPU it is attached to, with an alarm that runs when the count
 * reaches a limit: how a vPMU branch counter overflows at the exact branch without a listener
 * call on every branch. The CPU counts every branch anyway (one increment and one compare in the
 * hook); this object only remembers where its own count started.
 */
public final class BranchCounter {
    private final Runnable alarm;
    private Cpu cpu;
    private long base;
    private long alarmIn = Long.MAX_VALUE;

    public BranchCounter(Runnable alarm) {
        this.alarm = alarm;
    }

    void attach(Cpu c) {
        cpu = c;
        base = c.branches;
        arm();
    }

    void detach() {
        cpu = null;
    }

    void alarm() {
        alarm.run();
    }

    /** Branches counted since the last call (0 while detached); the count starts again from 0. */
    public long take() {
        if (cpu == null) {
            return 0;
        }
        long n = cpu.branches - base;
        base = cpu.branches;
        return n;
    }

    /** The alarm runs when the count since the last {@link #take()} reaches {@code branches} (Long.MAX_VALUE = never). */
    public void alarmAfter(long branches) {
        alarmIn = branches;
        arm();
    }

    private void arm() {
        if (cpu != null) {
            cpu.branchAlarmAt = alarmIn == Long.MAX_VALUE ? Long.MAX_VALUE : base + alarmIn;
        }
    }
}
