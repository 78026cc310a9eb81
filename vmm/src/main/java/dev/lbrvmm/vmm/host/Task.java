package dev.lbrvmm.vmm.host;

/** A schedulable host thread: a vCPU thread or a host workload. */
public final class Task {
    public enum Kind { VCPU, HOST }

    private final int id;
    private final String name;
    private final Kind kind;
    private final long affinity;
    private final TaskBody body;
    private final TaskLbrContext lbrContext = new TaskLbrContext();
    private PhysicalCpu cpu;

    Task(int id, String name, Kind kind, long affinity, TaskBody body) {
        this.id = id;
        this.name = name;
        this.kind = kind;
        this.affinity = affinity;
        this.body = body;
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** Bit i set: the task may run on physical CPU i. */
    public long affinity() {
        return affinity;
    }

    public boolean allowedOn(int cpuIndex) {
        return (affinity & (1L << cpuIndex)) != 0;
    }

    public TaskBody body() {
        return body;
    }

    /** perf's per-task LBR call-stack context (save area and counters). */
    public TaskLbrContext lbrContext() {
        return lbrContext;
    }

    /** The physical CPU the task runs or last ran on. */
    public PhysicalCpu cpu() {
        return cpu;
    }

    void setCpu(PhysicalCpu c) {
        cpu = c;
    }

    @Override
    public String toString() {
        return name;
    }
}
