package dev.lbrvmm.vmm.host;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The VMM's events in the Trace Event Format (the JSON array chrome://tracing and Perfetto open):
 * host scheduling slices per physical CPU, VM exits, MSR traps, the guest-LBR decisions (perf
 * event created/released, pass-through on/off, save, restore, skipped restore, reset, reclaim) and
 * PMIs, and the monitor commands that act on the machine. Time is the model's: guest instructions, shown as one nanosecond each, per physical CPU
 * (a CPU's clock advances by the instructions its tasks ran; an idle CPU catches up at the end of
 * each scheduling round).
 *
 * <p>Off by default: {@link #OFF} answers {@link #on} with false, and every call site tests it
 * first, so a run without --trace pays one field load and a branch per event site.
 */
public final class Tracer implements AutoCloseable {
    /** What a trace may hold; {@code --trace-events} picks among them by lower-case name. */
    public enum Category { SCHED, EXIT, MSR, LBR, PMI, QMP }

    /** Process ids in the trace: the host's CPUs and the guest's vCPUs are two timelines. */
    public static final int HOST = 1, GUEST = 2, MONITOR = 3;

    public static final Tracer OFF = new Tracer(null, EnumSet.noneOf(Category.class));

    private final Writer out;
    /** Instead of a file: the log (LBRVMM_LOG=debug for decisions, trace for slices and exits too). */
    private final org.slf4j.Logger log;
    private final int mask;
    private boolean first = true;
    /** The first write that failed (a full disk): tracing stops there and the caller reports it. */
    private IOException failure;
    private boolean closed;

    private Tracer(Writer out, Set<Category> categories) {
        this(out, null, categories);
    }

    private Tracer(Writer out, org.slf4j.Logger log, Set<Category> categories) {
        this.out = out;
        this.log = log;
        int m = 0;
        for (Category c : categories) {
            m |= 1 << c.ordinal();
        }
        this.mask = m;
    }

    /**
     * The events as log lines when the log asks for them: LBR decisions, MSR traps and PMIs at
     * DEBUG, scheduling slices and VM exits at TRACE (there is one per slice). OFF otherwise.
     */
    public static Tracer fromLog() {
        org.slf4j.Logger l = org.slf4j.LoggerFactory.getLogger("dev.lbrvmm.trace");
        if (!l.isDebugEnabled()) {
            return OFF;
        }
        EnumSet<Category> c = EnumSet.of(Category.LBR, Category.MSR, Category.PMI);
        if (l.isTraceEnabled()) {
            c.addAll(EnumSet.of(Category.SCHED, Category.EXIT));
        }
        return new Tracer(null, l, c);
    }

    /** A trace written to {@code out} (closed by {@link #close}) with the given categories. */
    public static Tracer to(Writer out, Set<Category> categories) {
        Tracer t = new Tracer(out instanceof BufferedWriter ? out : new BufferedWriter(out, 1 << 16), categories);
        t.raw("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"guest instructions, 1 ns each\"},\"traceEvents\":[\n");
        t.first = true;
        t.metadata(HOST, "host CPUs");
        t.metadata(GUEST, "vCPUs");
        t.metadata(MONITOR, "monitor commands");
        return t;
    }

    public boolean on(Category c) {
        return (mask & (1 << c.ordinal())) != 0;
    }

    /** Names a thread of a timeline ("cpu0", "vcpu1"). */
    public void threadName(int pid, int tid, String name) {
        if (log != null) {
            return;
        }
        event("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid + ",\"tid\":" + tid + ",\"args\":{\"name\":" + quote(name) + "}}");
    }

    /** A span: {@code name} ran on pid/tid from {@code start} for {@code duration} instructions. */
    public void span(Category c, String name, int pid, int tid, long start, long duration, String args) {
        if (log != null) {
            log.trace("{}{} @{}: {}: {} ran {} instructions", pid == HOST ? "cpu" : "vcpu", tid, start, lower(c), name, duration);
            return;
        }
        event("{\"ph\":\"X\",\"cat\":\"" + lower(c) + "\",\"name\":" + quote(name) + ",\"pid\":" + pid + ",\"tid\":" + tid + ",\"ts\":"
                + micros(start) + ",\"dur\":" + micros(duration) + (args == null ? "" : ",\"args\":{" + args + "}") + "}");
    }

    /** A point event at {@code time} (instructions); {@code args} is JSON members without braces, or null. */
    public void instant(Category c, String name, int pid, int tid, long time, String args) {
        if (log != null) {
            String line = "{}{} @{}: {}: {}" + (args == null ? "" : " {" + args + "}");
            if (c == Category.EXIT || c == Category.SCHED) {
                log.trace(line, pid == HOST ? "cpu" : "vcpu", tid, time, lower(c), name);
            } else {
                log.debug(line, pid == HOST ? "cpu" : "vcpu", tid, time, lower(c), name);
            }
            return;
        }
        event("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"" + lower(c) + "\",\"name\":" + quote(name) + ",\"pid\":" + pid + ",\"tid\":" + tid
                + ",\"ts\":" + micros(time) + (args == null ? "" : ",\"args\":{" + args + "}") + "}");
    }

    /** Ends the JSON and closes the file; an OFF tracer has nothing to close. */
    @Override
    public void close() {
        if (out == null || closed) {
            return;
        }
        closed = true;
        raw("\n]}\n");
        try {
            out.close();
        } catch (IOException e) {
            failure = failure == null ? e : failure;
        }
    }

    /** Why the trace is incomplete, if a write failed. */
    public java.util.Optional<IOException> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    /** A JSON string. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private void metadata(int pid, String name) {
        event("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + pid + ",\"args\":{\"name\":" + quote(name) + "}}");
    }

    private static String lower(Category c) {
        return c.name().toLowerCase(Locale.ROOT);
    }

    /** Instructions as microseconds (one nanosecond each), exactly. */
    private static String micros(long instructions) {
        return (instructions / 1000) + "." + String.format("%03d", instructions % 1000);
    }

    private void event(String json) {
        if (out == null || failure != null) {
            return;
        }
        raw(first ? json : ",\n" + json);
        first = false;
    }

    private void raw(String s) {
        if (failure != null) {
            return;
        }
        try {
            out.write(s);
        } catch (IOException e) {
            failure = e;
        }
    }
}
