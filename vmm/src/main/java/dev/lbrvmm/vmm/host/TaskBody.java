package dev.lbrvmm.vmm.host;

/** What a host task does when the scheduler runs it. */
public interface TaskBody {
    /** Runs on {@code cpu} for at most {@code budget} instructions; returns how many it executed. */
    long run(PhysicalCpu cpu, long budget);

    /** False while the task cannot run (a halted or dead vCPU). */
    boolean runnable();

    /** Called after the task was switched in on {@code cpu} (after perf restored its LBR context). */
    default void scheduledIn(PhysicalCpu cpu) {
    }
}
