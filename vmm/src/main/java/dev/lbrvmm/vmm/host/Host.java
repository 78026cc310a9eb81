package dev.lbrvmm.vmm.host;

import dev.lbrvmm.vmm.cpu.CpuModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The modelled host: physical CPUs, tasks and a deterministic scheduler. Each round, every
 * physical CPU in index order runs its next runnable task (round robin over its run queue) for one
 * time slice, counted in guest instructions. A CPU with nothing runnable takes a runnable task
 * allowed on it from the CPU with the most runnable tasks (migration). A switch to another task
 * goes through perf's context switch. Same tasks, same slices: same interleaving, every run.
 */
public final class Host {
    private final List<PhysicalCpu> cpus = new ArrayList<>();
    private final List<List<Task>> queues = new ArrayList<>();
    private final int[] cursor;
    private final List<Task> tasks = new ArrayList<>();
    private final HostPerf perf = new HostPerf();
    /** LBRVMM_LOG=debug: the decisions a --trace file would hold, as log lines; else off. */
    private Tracer tracer = Tracer.fromLog();
    private final long slice;
    private long migrations;

    public Host(int cpuCount, CpuModel model, long timeSlice) {
        if (cpuCount < 1) {
            throw new IllegalArgumentException("a host needs at least one CPU");
        }
        for (int i = 0; i < cpuCount; i++) {
            cpus.add(new PhysicalCpu(i, model));
            queues.add(new ArrayList<>());
        }
        cursor = new int[cpuCount];
        slice = timeSlice;
    }

    public List<PhysicalCpu> cpus() {
        return Collections.unmodifiableList(cpus);
    }

    public List<Task> tasks() {
        return Collections.unmodifiableList(tasks);
    }

    /** Traces from now on to {@code t} (Tracer.OFF: none); names each CPU's timeline. */
    public void trace(Tracer t) {
        tracer = t;
        perf.tracer = t;
        for (PhysicalCpu c : cpus) {
            t.threadName(Tracer.HOST, c.index(), "cpu" + c.index());
        }
    }

    /** The latest CPU clock: where events from outside the guest (monitor commands) go on the trace's timeline. */
    public long now() {
        long now = 0;
        for (PhysicalCpu c : cpus) {
            now = Math.max(now, c.clock);
        }
        return now;
    }

    public Tracer tracer() {
        return tracer;
    }

    public HostPerf perf() {
        return perf;
    }

    public long timeSlice() {
        return slice;
    }

    public long migrations() {
        return migrations;
    }

    /** All CPUs as an affinity mask. */
    public long allCpus() {
        return allCpus(cpus.size());
    }

    /** The affinity mask of CPUs 0..n-1 (n up to 64: Java's shift counts are mod 64, so 64 is a case of its own). */
    public static long allCpus(int n) {
        return n >= 64 ? -1L : (1L << n) - 1;
    }

    /**
     * Adds a task; it starts on the allowed CPU with the fewest tasks (lowest index on ties).
     *
     * @param affinity bit i allows CPU i; must allow at least one existing CPU
     */
    public Task addTask(String name, Task.Kind kind, long affinity, TaskBody body) {
        long allowed = affinity & allCpus();
        if (allowed == 0) {
            throw new IllegalArgumentException("task " + name + " is allowed on no CPU of this " + cpus.size() + "-CPU host");
        }
        Task t = new Task(tasks.size(), name, kind, allowed, body);
        tasks.add(t);
        int best = -1;
        for (int i = 0; i < cpus.size(); i++) {
            if (t.allowedOn(i) && (best < 0 || queues.get(i).size() < queues.get(best).size())) {
                best = i;
            }
        }
        queues.get(best).add(t);
        t.setCpu(cpus.get(best));
        return t;
    }

    /**
     * Makes {@code t} the running task on its CPU (a thread entering KVM_RUN outside the
     * scheduler's rounds, as tests and single-stepping do), with perf's context switch.
     */
    public void ensureRunning(Task t) {
        PhysicalCpu c = t.cpu();
        if (c.current != t) {
            perf.contextSwitch(c, c.current, t);
            c.contextSwitches++;
            t.body().scheduledIn(c);
        }
    }

    /** Runs scheduling rounds until {@code done} is true or nothing at all is runnable. */
    public void run(BooleanSupplier done) {
        while (!done.getAsBoolean()) {
            boolean ranAny = false;
            for (PhysicalCpu c : cpus) {
                Task t = pick(c);
                if (t == null) {
                    t = steal(c);
                }
                if (t != c.current) {
                    perf.contextSwitch(c, c.current, t);
                    c.contextSwitches++;
                    if (t != null) {
                        t.body().scheduledIn(c);
                    }
                }
                if (t == null) {
                    continue;
                }
                ranAny = true;
                long start = c.clock;
                long ran = t.body().run(c, slice);
                c.clock = start + ran;
                if (tracer.on(Tracer.Category.SCHED) && ran > 0) {
                    tracer.span(Tracer.Category.SCHED, t.name(), Tracer.HOST, c.index(), start, ran, null);
                }
                if (done.getAsBoolean()) {
                    return;
                }
            }
            if (!ranAny) {
                return;
            }
            long now = 0;
            for (PhysicalCpu c : cpus) {
                now = Math.max(now, c.clock);
            }
            for (PhysicalCpu c : cpus) {
                if (c.current == null) {
                    c.clock = now; // idle through the round
                }
            }
        }
    }

    private Task pick(PhysicalCpu c) {
        List<Task> q = queues.get(c.index());
        for (int k = 0; k < q.size(); k++) {
            int i = (cursor[c.index()] + k) % q.size();
            Task t = q.get(i);
            if (t.body().runnable()) {
                cursor[c.index()] = i + 1;
                return t;
            }
        }
        return null;
    }

    private Task steal(PhysicalCpu idle) {
        int from = -1;
        int most = 1;
        for (int i = 0; i < cpus.size(); i++) {
            int n = runnableAllowed(i, idle.index());
            if (i != idle.index() && n >= 1 && runnable(i) > most) {
                most = runnable(i);
                from = i;
            }
        }
        if (from < 0) {
            return null;
        }
        List<Task> q = queues.get(from);
        for (Task t : q) {
            if (t.body().runnable() && t.allowedOn(idle.index()) && cpus.get(from).current != t) {
                q.remove(t);
                queues.get(idle.index()).add(t);
                migrations++;
                return t;
            }
        }
        return null;
    }

    private int runnable(int cpu) {
        int n = 0;
        for (Task t : queues.get(cpu)) {
            if (t.body().runnable()) {
                n++;
            }
        }
        return n;
    }

    private int runnableAllowed(int cpu, int target) {
        int n = 0;
        for (Task t : queues.get(cpu)) {
            if (t.body().runnable() && t.allowedOn(target)) {
                n++;
            }
        }
        return n;
    }
}
