package dev.lbrvmm.vmm.host;

import dev.lbrvmm.vmm.cpu.LbrFormat;
import dev.lbrvmm.vmm.cpu.LbrUnit;
import dev.lbrvmm.vmm.cpu.Msr;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The host's perf subsystem as far as the LBR goes: LBR events with perf's priorities, which one
 * owns each CPU's LBR, and the call-stack context-switch save/restore (intel_pmu_lbr_sched_task, intel_pmu_lbr_save/restore in lbr.c):
 * <ul>
 * <li>save at sched-out walks back from TOS and stops at the first FROM = 0;</li>
 * <li>restore at sched-in is skipped when this CPU last saved this very context and FROM[TOS] is
 *     still non-zero (nobody touched the LBR); otherwise the saved entries are written back and the
 *     rest zeroed;</li>
 * <li>a task with LBR users but no call-stack data gets the LBR reset at every sched-in;</li>
 * <li>an event added where it is the first LBR user and has never run resets the LBR (records,
 *     not TOS).</li>
 * </ul>
 * Every LBR MSR access perf makes is counted on the task it was made for.
 */
public final class HostPerf {
    /** Set by Host.trace. */
    Tracer tracer = Tracer.fromLog();
    private final List<LbrEvent> events = new ArrayList<>();
    private int nextId = 1;
    private long logCounter;

    public List<LbrEvent> events() {
        return Collections.unmodifiableList(events);
    }

    /** x86_perf_get_lbr for a CPU. */
    public static LbrDescription describe(PhysicalCpu cpu) {
        var m = cpu.model();
        if (!m.hasLbr()) {
            return new LbrDescription(0, 0, 0, 0, 0);
        }
        return new LbrDescription(m.lbrDepth(), Msr.MSR_LBR_TOS, m.fromBase(), m.toBase(),
                LbrFormat.hasInfoMsr(m.lbrFormat()) ? m.infoBase() : 0);
    }

    public LbrEvent createTaskEvent(String owner, Task task, boolean pinned, boolean callStack, boolean guest, long lbrSelect) {
        LbrEvent e = new LbrEvent(nextId++, owner, LbrEvent.Scope.TASK, pinned, -1, task, callStack, guest, lbrSelect);
        events.add(e);
        if (callStack) {
            task.lbrContext().valid = false;
        }
        PhysicalCpu c = task.cpu();
        if (c != null && c.current == task) {
            boolean firstUser = owner(c) == null;
            schedule(c, task);
            if (e.state == LbrEvent.State.ACTIVE && firstUser && !e.hasRun) {
                reset(c, task.lbrContext(), e); // first add on a CPU with no LBR user: records zeroed
            }
        }
        return e;
    }

    public LbrEvent createCpuEvent(String owner, PhysicalCpu cpu, boolean pinned, long lbrSelect) {
        LbrEvent e = new LbrEvent(nextId++, owner, LbrEvent.Scope.CPU, pinned, cpu.index(), null, false, false, lbrSelect);
        events.add(e);
        schedule(cpu, cpu.current);
        return e;
    }

    /** Destroys an event (perf_event_release_kernel). */
    public void release(LbrEvent e, PhysicalCpu where) {
        if (!events.remove(e)) {
            return;
        }
        e.state = LbrEvent.State.OFF;
        if (where != null) {
            schedule(where, where.current);
        }
    }

    /** The event that owns this CPU's LBR now (ACTIVE), or null. */
    public LbrEvent owner(PhysicalCpu cpu) {
        for (LbrEvent e : events) {
            if (e.state == LbrEvent.State.ACTIVE && (e.scope() == LbrEvent.Scope.CPU ? e.cpu() == cpu.index()
                    : e.task() != null && e.task().cpu() == cpu && cpu.current == e.task())) {
                return e;
            }
        }
        return null;
    }

    /** Decides which LBR event owns the CPU while {@code running} runs there. */
    void schedule(PhysicalCpu cpu, Task running) {
        LbrEvent best = null;
        for (LbrEvent e : events) {
            boolean candidate = e.scope() == LbrEvent.Scope.CPU ? e.cpu() == cpu.index() : running != null && e.task() == running;
            if (e.scope() == LbrEvent.Scope.TASK && e.task() != running && e.task().cpu() == cpu && e.state == LbrEvent.State.ACTIVE) {
                e.state = LbrEvent.State.INACTIVE; // its task is off this CPU now
            }
            if (!candidate || e.state == LbrEvent.State.ERROR) {
                continue;
            }
            if (best == null || e.priority() < best.priority()) {
                best = e;
            }
        }
        for (LbrEvent e : events) {
            boolean candidate = e.scope() == LbrEvent.Scope.CPU ? e.cpu() == cpu.index() : running != null && e.task() == running;
            if (!candidate || e.state == LbrEvent.State.ERROR) {
                continue;
            }
            if (e == best) {
                e.state = LbrEvent.State.ACTIVE;
            } else {
                e.state = e.pinned() ? LbrEvent.State.ERROR : LbrEvent.State.INACTIVE;
            }
        }
        cpu.hostLbr = best != null && !best.guest();
        cpu.hostLbrSelect = best != null ? best.lbrSelect() : 0;
    }

    /** A context switch on {@code cpu}: save for {@code prev}, schedule events, restore or reset for {@code next}. */
    void contextSwitch(PhysicalCpu cpu, Task prev, Task next) {
        LbrUnit lbr = cpu.lbr();
        if (lbr != null && prev != null) {
            LbrEvent e = activeCallStackEvent(prev, cpu);
            if (e != null) {
                save(cpu, prev.lbrContext());
            }
        }
        cpu.current = next;
        if (next != null) {
            next.setCpu(cpu);
        }
        schedule(cpu, next);
        if (lbr == null || next == null) {
            return;
        }
        LbrEvent own = owner(cpu);
        LbrEvent cs = activeCallStackEvent(next, cpu);
        if (cs != null) {
            restore(cpu, next.lbrContext(), cs);
            cs.hasRun = true;
        } else if (own != null) {
            reset(cpu, next.lbrContext(), own); // LBR users but no call-stack data: "a context switch can flip the address space"
            own.hasRun = true;
        }
        if (cpu.hostLbr) {
            lbr.writeMsr(Msr.MSR_LBR_SELECT, cpu.hostLbrSelect);
        }
    }

    private LbrEvent activeCallStackEvent(Task t, PhysicalCpu cpu) {
        for (LbrEvent e : events) {
            if (e.task() == t && e.callStack() && e.state == LbrEvent.State.ACTIVE) {
                return e;
            }
        }
        return null;
    }

    private void save(PhysicalCpu cpu, TaskLbrContext ctx) {
        LbrUnit lbr = cpu.lbr();
        var m = cpu.model();
        int n = m.lbrDepth();
        boolean info = LbrFormat.hasInfoMsr(m.lbrFormat());
        if (ctx.saved == null) {
            ctx.saved = new long[3][n];
        }
        int tos = (int) lbr.readMsr(Msr.MSR_LBR_TOS);
        ctx.counts.msrReads++;
        int valid = 0;
        for (int k = 0; k < n; k++) {
            int idx = (tos - k) & (n - 1);
            long from = lbr.readMsr(m.fromBase() + idx);
            ctx.counts.msrReads++;
            if (from == 0) {
                break;
            }
            ctx.saved[0][k] = from;
            ctx.saved[1][k] = lbr.readMsr(m.toBase() + idx);
            ctx.counts.msrReads++;
            if (info) {
                ctx.saved[2][k] = lbr.readMsr(m.infoBase() + idx);
                ctx.counts.msrReads++;
            }
            valid++;
        }
        ctx.validLbrs = valid;
        ctx.tos = tos;
        if (m.hasLbrSelect()) {
            ctx.lbrSelect = lbr.readMsr(Msr.MSR_LBR_SELECT);
            ctx.counts.msrReads++;
        }
        ctx.valid = true;
        ctx.logId = ++logCounter;
        cpu.lastSaved = ctx;
        cpu.lastLogId = ctx.logId;
        ctx.counts.saves++;
        trace(cpu, "save", ctx);
    }

    /** An LBR save/restore decision on {@code cpu}'s timeline. */
    private void trace(PhysicalCpu cpu, String what, TaskLbrContext ctx) {
        if (tracer.on(Tracer.Category.LBR)) {
            tracer.instant(Tracer.Category.LBR, what, Tracer.HOST, cpu.index(), cpu.clock(), "\"valid\":" + ctx.valid);
        }
    }

    private void restore(PhysicalCpu cpu, TaskLbrContext ctx, LbrEvent e) {
        LbrUnit lbr = cpu.lbr();
        var m = cpu.model();
        if (!ctx.valid) {
            reset(cpu, ctx, e);
            return;
        }
        int n = m.lbrDepth();
        if (cpu.lastSaved == ctx && cpu.lastLogId == ctx.logId) {
            long fromTos = lbr.readMsr(m.fromBase() + (ctx.tos & (n - 1)));
            ctx.counts.msrReads++;
            if (fromTos != 0) {
                ctx.valid = false;
                ctx.counts.skippedRestores++;
                trace(cpu, "restore skipped", ctx);
                return; // nobody touched the LBR since we saved it
            }
        }
        boolean info = LbrFormat.hasInfoMsr(m.lbrFormat());
        for (int k = 0; k < n; k++) {
            int idx = (ctx.tos - k) & (n - 1);
            boolean keep = k < ctx.validLbrs;
            lbr.writeMsr(m.fromBase() + idx, keep ? ctx.saved[0][k] : 0);
            lbr.writeMsr(m.toBase() + idx, keep ? ctx.saved[1][k] : 0);
            ctx.counts.msrWrites += 2;
            if (info) {
                lbr.writeMsr(m.infoBase() + idx, keep ? ctx.saved[2][k] : 0);
                ctx.counts.msrWrites++;
            }
        }
        lbr.writeMsr(Msr.MSR_LBR_TOS, ctx.tos);
        ctx.counts.msrWrites++;
        if (m.hasLbrSelect()) {
            lbr.writeMsr(Msr.MSR_LBR_SELECT, ctx.lbrSelect);
            ctx.counts.msrWrites++;
        }
        ctx.valid = false;
        ctx.counts.restores++;
        trace(cpu, "restore", ctx);
    }

    /**
     * intel_pmu_lbr_reset: zero every FROM/TO/INFO (TOS kept), LBR_SELECT = 0 for the guest event's
     * flag, and forget the CPU's last saved context, so no later restore is skipped over it.
     */
    private void reset(PhysicalCpu cpu, TaskLbrContext ctx, LbrEvent e) {
        LbrUnit lbr = cpu.lbr();
        var m = cpu.model();
        lbr.clearRecords();
        cpu.lastSaved = null;
        cpu.lastLogId = 0;
        ctx.counts.msrWrites += (long) m.lbrDepth() * (LbrFormat.hasInfoMsr(m.lbrFormat()) ? 3 : 2);
        if (e.guest() && m.hasLbrSelect()) {
            lbr.writeMsr(Msr.MSR_LBR_SELECT, 0);
            ctx.counts.msrWrites++;
        }
        ctx.counts.resets++;
        trace(cpu, "reset", ctx);
    }
}
