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
    private final VmmMonitor vmm;
    private final QmpServer server;
    private final CountDownLatch quitReplied = new CountDownLatch(1);

    private MonitorSession() {
        vmm = new VmmMonitor(version(), commands);
        vmm.onQuit(quitReplied::countDown);
        server = new QmpServer(vmm.monitor());
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

    static MonitorSession start(List<QmpAddress> addresses, Main.Console console) throws IOException {
        MonitorSession s = new MonitorSession();
        try {
            for (QmpAddress a : addresses) {
                if (a.kind() == QmpAddress.Kind.TCP) {
                    InetSocketAddress at = s.server.listenTcp(a.host(), a.port());
                    console.err.println("lbrvmm: QMP monitor on tcp:" + at.getHostString() + ":" + at.getPort());
                } else {
                    s.server.listenUnix(a.path());
                    console.err.println("lbrvmm: QMP monitor on unix:" + a.path());
                }
            }
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Runs the machine; returns its exit, or null after quit (once quit's reply went out). */
    MachineExit run(Machine m, boolean paused) throws InterruptedException {
        MachineController c = new MachineController(m, paused, vmm);
        vmm.attach(c);
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
