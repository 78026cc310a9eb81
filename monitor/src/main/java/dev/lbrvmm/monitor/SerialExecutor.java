package dev.lbrvmm.monitor;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/** Runs tasks one at a time, in submission order, on a shared executor (one per QMP session). */
final class SerialExecutor implements Executor {
    private final Executor base;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean running;

    SerialExecutor(Executor base) {
        this.base = base;
    }

    @Override
    public void execute(Runnable r) {
        synchronized (queue) {
            queue.add(r);
            if (running) {
                return;
            }
            running = true;
        }
        base.execute(this::drain);
    }

    private void drain() {
        for (;;) {
            Runnable r;
            synchronized (queue) {
                r = queue.poll();
                if (r == null) {
                    running = false;
                    return;
                }
            }
            r.run();
        }
    }
}
