package dev.lbrvmm.vmm.machine;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Runs a machine on its own thread (the VM thread) with QEMU's run states, and executes requests
 * from other threads (the monitor) on that thread, between scheduling rounds: a request never
 * races the guest, and what it observes is a consistent machine. While the VM is paused or in
 * prelaunch the thread only serves requests.
 */
public final class MachineController {
    private final Machine machine;
    private final MachineEvents events;
    private final BlockingQueue<Runnable> requests = new LinkedBlockingQueue<>();
    private volatile RunState state;
    private volatile boolean quit;
    private MachineExit exit;

    public MachineController(Machine machine, boolean startPaused, MachineEvents events) {
        this.machine = machine;
        this.events = events;
        this.state = startPaused ? RunState.PRELAUNCH : RunState.RUNNING;
    }

    public Machine machine() {
        return machine;
    }

    public RunState state() {
        return state;
    }

    /** Runs on {@code call} on the VM thread and waits for its result (for monitor commands). */
    public <T> T call(Callable<T> call) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        requests.add(() -> {
            try {
                f.complete(call.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        machine.kickVcpus();
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) {
                throw ex;
            }
            throw new RuntimeException(c);
        }
    }

    /**
     * The VM thread's loop; returns when the guest ended or {@link #quit()} was called. Guest
     * execution happens only in RUNNING; requests are served between rounds in every state.
     */
    public MachineExit run() throws InterruptedException {
        while (!quit) {
            Runnable r = requests.poll();
            if (r != null) {
                r.run();
                continue;
            }
            if (state != RunState.RUNNING) {
                Runnable next = requests.take();
                next.run();
                continue;
            }
            MachineExit e = machine.runUntil(() -> !requests.isEmpty() || quit);
            if (e != null) {
                exit = e;
                finishGuest(e);
                return e;
            }
        }
        return exit;
    }

    private void finishGuest(MachineExit e) {
        switch (e.kind()) {
            case TRIPLE_FAULT -> {
                state = RunState.GUEST_PANICKED;
                events.guestPanicked("poweroff");
                events.stopped();
                events.shutdown(true, "guest-panic");
            }
            case INTERNAL_ERROR, OUTPUT_ERROR -> { // a failed output write is a host-side error too
                state = RunState.INTERNAL_ERROR;
                events.stopped();
                events.shutdown(false, "host-error");
            }
            default -> {
                state = RunState.SHUTDOWN;
                events.shutdown(true, "guest-shutdown");
            }
        }
    }

    // The operations below run on the VM thread (through call()).

    /** stop: pause; STOP only when it was running. */
    public void stop() {
        if (state == RunState.RUNNING) {
            state = RunState.PAUSED;
            events.stopped();
        }
    }

    /** cont: resume; RESUME only when it was not running. Fails after shutdown until a reset. */
    public void cont() throws IllegalStateException {
        if (state == RunState.SHUTDOWN || state == RunState.INTERNAL_ERROR || state == RunState.GUEST_PANICKED) {
            throw new IllegalStateException("Resetting the Virtual Machine is required");
        }
        if (state != RunState.RUNNING) {
            state = RunState.RUNNING;
            events.resumed();
        }
    }

    /** system_reset: the machine restarts its program; a stopped VM goes to prelaunch. */
    public void reset() throws MachineException {
        events.reset(false, "host-qmp-system-reset");
        machine.reset();
        if (state != RunState.RUNNING) {
            state = RunState.PRELAUNCH;
        }
    }

    /** system_powerdown: the ACPI button; these guests have no ACPI and ignore it (as SeaBIOS with no OS). */
    public void powerdown() {
        events.powerdown();
    }

    /** quit: SHUTDOWN, then the VM thread ends. */
    public void quit() {
        events.shutdown(false, "host-qmp-quit");
        quit = true;
    }
}
