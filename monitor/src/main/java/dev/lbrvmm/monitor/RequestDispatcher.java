package dev.lbrvmm.monitor;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Runs the in-band requests of every session of a monitor, one request at a time, taking the
 * sessions round-robin: a session with work goes to the back of the line after each request, as
 * QEMU's monitor_qmp_requests_pop_any_with_lock moves the monitor it served to the end of its list.
 * So a client that floods the monitor gets one turn in N like everyone else, and a fresh client's
 * request waits for at most one request of each other client. A session whose transport cannot take
 * more output (a client that does not read) is left out until the transport drains.
 */
final class RequestDispatcher {
    private final Executor executor;
    /** Sessions with a queued request, in the order they get their next turn. */
    private final ArrayDeque<QmpSession> ready = new ArrayDeque<>();
    private boolean draining;

    RequestDispatcher(Executor executor) {
        this.executor = executor;
    }

    /** {@code s} has a request queued or can write again: give it a turn. */
    void ready(QmpSession s) {
        synchronized (ready) {
            if (s.inLine) {
                return;
            }
            s.inLine = true;
            ready.add(s);
            if (draining) {
                return;
            }
            draining = true;
        }
        executor.execute(this::drain);
    }

    private void drain() {
        for (;;) {
            QmpSession s;
            synchronized (ready) {
                s = ready.poll();
                if (s == null) {
                    draining = false;
                    return;
                }
                s.inLine = false;
            }
            if (s.runNextRequest()) {
                ready(s); // more queued: back of the line
            }
        }
    }
}
