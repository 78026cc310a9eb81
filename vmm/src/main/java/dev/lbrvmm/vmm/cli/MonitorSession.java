package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.netty.QmpAddress;
import dev.lbrvmm.monitor.netty.QmpServer;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineController;
import dev.lbrvmm.vmm.machine.MachineExit;
import dev.lbrvmm.vmm.qmp.VmmMonitor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** A run with a QMP monitor: endpoints up first, then the machine on this thread under a controller. */
final class MonitorSession implements AutoCloseable {
    private final ExecutorService commands = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "qmp-command");
        t.setDaemon(true);
        return t;
    });
    private final QmpMonitor monitor;
    private final QmpServer server;
    private final CountDownLatch quitReplied = new CountDownLatch(1);
    private final List<QmpAddress> addresses;
    private VmmMonitor vmm;

    /** Binds the endpoints with the built-in commands only; {@link #vmm()} adds the VMM's later. */
    private MonitorSession(List<QmpAddress> addresses) {
        this.addresses = List.copyOf(addresses);
        monitor = new QmpMonitor(new dev.lbrvmm.monitor.CommandRegistry(), version(), commands, false);
        server = new QmpServer(monitor);
    }

    /** A session bound by {@link #bindEarly} before the command line was parsed, or null. */
    private static MonitorSession early;

    /**
     * Called first thing in main: for {@code run ... --qmp ADDR} the endpoints are bound before
     * anything else loads, so a client gets its greeting as soon as possible. Any problem here is
     * left for the normal path to report.
     */
    static void bindEarly(String[] args) {
        if (args.length == 0 || !args[0].equals("run")) {
            return;
        }
        List<QmpAddress> found = new java.util.ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String v = args[i].equals("--qmp") && i + 1 < args.length ? args[++i] : args[i].startsWith("--qmp=") ? args[i].substring(6) : null;
            if (v != null) {
                try {
                    found.add(QmpAddress.parse(v));
                } catch (IllegalArgumentException e) {
                    return;
                }
            }
        }
        if (found.isEmpty()) {
            return;
        }
        MonitorSession s = new MonitorSession(found);
        try {
            s.listen(null);
            early = s;
        } catch (IOException e) {
            s.close();
        }
    }

    /** The early session if it was bound to exactly these addresses (it is then handed over once). */
    static MonitorSession takeEarly(List<QmpAddress> addresses) {
        MonitorSession s = early;
        early = null;
        if (s != null && !s.addresses.equals(addresses)) {
            s.close();
            return null;
        }
        return s;
    }

    /** The VMM's commands, registered on first use. */
    VmmMonitor vmm() {
        if (vmm == null) {
            vmm = new VmmMonitor(monitor);
            vmm.onQuit(quitReplied::countDown);
            monitor.commandsComplete();
        }
        return vmm;
    }

    /** QMP reports the lbrvmm version in QEMU's version triple. */
    static QmpMonitor.Version version() {
        String v = Main.class.getPackage().getImplementationVersion();
        int[] n = {0, 1, 0};
        if (v != null) {
            String[] parts = v.replaceAll("[^0-9.].*$", "").split("\\.");
            for (int i = 0; i < Math.min(3, parts.length); i++) {
                try {
                    n[i] = Integer.parseInt(parts[i]);
                } catch (NumberFormatException e) {
                    // keep the default
                }
            }
        }
        return new QmpMonitor.Version(n[0], n[1], n[2], "lbrvmm " + (v == null ? "development build" : v));
    }

    private final List<String> bound = new java.util.ArrayList<>();

    private void listen(Main.Console console) throws IOException {
        for (QmpAddress a : addresses) {
            if (a.kind() == QmpAddress.Kind.TCP) {
                InetSocketAddress at = server.listenTcp(a.host(), a.port());
                bound.add("tcp:" + at.getHostString() + ":" + at.getPort());
            } else {
                server.listenUnix(a.path());
                bound.add("unix:" + a.path());
            }
        }
    }

    static MonitorSession start(List<QmpAddress> addresses, Main.Console console) throws IOException {
        MonitorSession s = takeEarly(addresses);
        if (s == null) {
            s = new MonitorSession(addresses);
            try {
                s.listen(console);
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }
        for (String b : s.bound) {
            console.err.println("lbrvmm: QMP monitor on " + b);
        }
        s.vmm();
        return s;
    }

    /** Runs the machine; returns its exit, or null after quit (once quit's reply went out). */
    MachineExit run(Machine m, boolean paused) throws InterruptedException {
        MachineController c = new MachineController(m, paused, vmm());
        vmm().attach(c);
        MachineExit exit = c.run();
        if (exit == null) {
            quitReplied.await(2, TimeUnit.SECONDS);
        }
        return exit;
    }

    @Override
    public void close() {
        server.close();
        commands.shutdownNow();
    }
}
