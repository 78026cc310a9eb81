package dev.lbrvmm.vmm.host;

/**
 * A perf event that uses the LBR. CPU events are bound to a physical CPU, task events to a task.
 * perf's priorities (Peter Zijlstra): CPU-pinned > task-pinned > CPU-flexible > task-flexible.
 * A pinned event that loses the LBR goes to ERROR and stays there until it is released
 * (perf core's merge_sched_in; how long perf keeps it in ERROR is not documented, sticky is the
 * choice here: docs/design.md).
 */
public final class LbrEvent {
    public enum Scope { CPU, TASK }

    public enum State { ACTIVE, INACTIVE, ERROR, OFF }

    private final int id;
    private final String owner;
    private final Scope scope;
    private final boolean pinned;
    private final int cpu;
    private final Task task;
    private final boolean callStack;
    private final boolean guest;
    private final long lbrSelect;
    State state = State.INACTIVE;
    boolean hasRun;

    LbrEvent(int id, String owner, Scope scope, boolean pinned, int cpu, Task task, boolean callStack, boolean guest, long lbrSelect) {
        this.id = id;
        this.owner = owner;
        this.scope = scope;
        this.pinned = pinned;
        this.cpu = cpu;
        this.task = task;
        this.callStack = callStack;
        this.guest = guest;
        this.lbrSelect = lbrSelect;
    }

    public int id() {
        return id;
    }

    public String owner() {
        return owner;
    }

    public Scope scope() {
        return scope;
    }

    public boolean pinned() {
        return pinned;
    }

    /** Physical CPU of a CPU event, -1 for task events. */
    public int cpu() {
        return cpu;
    }

    /** Task of a task event, null for CPU events. */
    public Task task() {
        return task;
    }

    /** Branch sample type includes CALL_STACK: the task's LBR is saved and restored on switches. */
    public boolean callStack() {
        return callStack;
    }

    /** KVM's guest LBR event (exclude_host): perf never enables the LBR for host code under it. */
    public boolean guest() {
        return guest;
    }

    public long lbrSelect() {
        return lbrSelect;
    }

    public State state() {
        return state;
    }

    /** 0 is strongest: CPU-pinned 0, task-pinned 1, CPU-flexible 2, task-flexible 3. */
    public int priority() {
        return scope == Scope.CPU ? (pinned ? 0 : 2) : (pinned ? 1 : 3);
    }

    public String describe() {
        return (scope == Scope.CPU ? "CPU" : "task") + "-" + (pinned ? "pinned" : "flexible") + " LBR event #" + id + " of " + owner
                + (scope == Scope.CPU ? " on pCPU " + cpu : "") + " (" + state + ")";
    }
}
