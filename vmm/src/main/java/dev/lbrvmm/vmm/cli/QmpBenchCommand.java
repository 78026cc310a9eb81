package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.bench.GuestTiming;
import dev.lbrvmm.vmm.bench.JvmFlags;
import dev.lbrvmm.vmm.bench.Statistics;
import dev.lbrvmm.monitor.client.QmpClient;
import dev.lbrvmm.monitor.netty.QmpAddress;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lbrvmm bench qmp}: the monitor's speed against a real VMM process (the built jar, with
 * the launcher's JVM flags): time from starting {@code lbrvmm run --kernel PROG -S --qmp tcp:...}
 * to the greeting arriving; query-status round trips (median and p99 of sequential requests); and
 * throughput with 1 and 16 concurrent clients.
 */
@Command(name = "qmp", mixinStandardHelpOptions = true,
        description = "Measures QMP start-up-to-greeting time, query-status round-trip latency and throughput against a "
                + "freshly started VMM process (run paused with examples/bin/forever.elf).")
final class QmpBenchCommand implements Callable<Integer> {
    private final Main.Console console;

    @Option(names = "--launches", paramLabel = "N", description = "VMM processes started to time the greeting (default: ${DEFAULT-VALUE}).")
    int launches = 7;

    @Option(names = "--requests", paramLabel = "N", description = "Sequential query-status requests for latency (default: ${DEFAULT-VALUE}).")
    int requests = 2000;

    @Option(names = "--cds-training", hidden = true,
            description = "Exercise start-up, config, machine and monitor in this JVM and exit (records the CDS archive).")
    boolean cdsTraining;

    QmpBenchCommand(Main.Console console) {
        this.console = console;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Process launch(int port) throws IOException {
        Path home = GuestTiming.home();
        Path jar = home.resolve("vmm/target/lbrvmm.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IOException(jar + " is missing: build first (./lbrvmm --version builds it)");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(JvmFlags.args()); // as the launcher starts it
        cmd.addAll(List.of("-Xshare:auto", "-Dlbrvmm.home=" + home));
        Path cds = home.resolve("vmm/target/lbrvmm.jsa");
        if (Files.isRegularFile(cds)) {
            cmd.add("-XX:SharedArchiveFile=" + cds); // as the launcher starts it
        }
        cmd.addAll(List.of("-jar", jar.toString(), "run", "--kernel", home.resolve("examples/bin/forever.elf").toString(), "-S",
                "--qmp", "tcp:127.0.0.1:" + port));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Milliseconds from process start to a complete greeting line read by a client. */
    private static double timeToGreeting(int port) throws Exception {
        long t0 = System.nanoTime();
        Process p = launch(port);
        try {
            for (;;) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    int c;
                    var in = s.getInputStream();
                    while ((c = in.read()) != -1 && c != '\n') {
                        // read the greeting line
                    }
                    return (System.nanoTime() - t0) / 1e6;
                } catch (IOException e) {
                    if (!p.isAlive()) {
                        throw new IOException("the VMM exited with status " + p.exitValue() + " before its greeting");
                    }
                    Thread.sleep(1);
                }
            }
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    /** Runs what a monitor session does, in this JVM, so the classes land in the CDS archive. */
    private int train() throws Exception {
        int port = freePort();
        CompletableFuture<Integer> vm = CompletableFuture.supplyAsync(() -> Main.execute(new String[] {"run", "--kernel",
                GuestTiming.home().resolve("examples/bin/forever.elf").toString(), "-S", "--qmp", "tcp:127.0.0.1:" + port},
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), new java.io.PrintStream(java.io.OutputStream.nullOutputStream())));
        try (QmpClient c = QmpClient.connect(QmpAddress.parse("tcp:127.0.0.1:" + port), Duration.ofSeconds(20))) {
            c.execute("query-status", null).join();
            c.execute("query-lbr", null).join();
            c.execute("quit", null).join();
        }
        return vm.get();
    }

    @Mixin
    JsonOption json = new JsonOption();

    /** {@code bench qmp --json}: milliseconds to the greeting, microseconds per round trip, requests per second. */
    record Result(int launches, double startupMedianMs, double startupMinMs, double startupMaxMs, int requests, double roundTripMedianUs,
            double roundTripP99Us, double throughputOneClient, double throughputSixteenClients) {}

    @Override
    public Integer call() {
        try {
            if (cdsTraining) {
                return train();
            }
            double[] startup = new double[launches];
            for (int i = 0; i < launches; i++) {
                startup[i] = timeToGreeting(freePort());
            }
            Arrays.sort(startup);
            if (!json.json) {
                console.out.printf("start-up to greeting: median %.1f ms, min %.1f ms, max %.1f ms (%d launches)%n",
                        Statistics.percentile(startup, 0.5), startup[0], startup[startup.length - 1], launches);
            }

            int port = freePort();
            Process p = launch(port);
            try (QmpClient c = QmpClient.connect(QmpAddress.parse("tcp:127.0.0.1:" + port), Duration.ofSeconds(20))) {
                for (int i = 0; i < 500; i++) {
                    c.call("query-status", null); // warm up both JVMs
                }
                double[] rtt = new double[requests];
                for (int i = 0; i < requests; i++) {
                    long t = System.nanoTime();
                    c.call("query-status", null); // an error reply throws
                    rtt[i] = (System.nanoTime() - t) / 1e3;
                }
                Arrays.sort(rtt);
                double one = throughput(List.of(c), 5000);
                if (!json.json) {
                    console.out.printf("query-status round trip: median %.1f us, p99 %.1f us (%d sequential requests, TCP loopback)%n",
                            Statistics.percentile(rtt, 0.5), Statistics.percentile(rtt, 0.99), requests);
                    console.out.printf("throughput, 1 client: %,.0f requests/s%n", one);
                }
                List<QmpClient> many = new ArrayList<>();
                try {
                    for (int i = 0; i < 16; i++) {
                        many.add(QmpClient.connect(QmpAddress.parse("tcp:127.0.0.1:" + port), Duration.ofSeconds(5)));
                    }
                    double sixteen = throughput(many, 2000);
                    if (json.json) {
                        json.print(console, new Result(launches, Statistics.percentile(startup, 0.5), startup[0], startup[startup.length - 1],
                                requests, Statistics.percentile(rtt, 0.5), Statistics.percentile(rtt, 0.99), one, sixteen));
                    } else {
                        console.out.printf("throughput, 16 clients: %,.0f requests/s%n", sixteen);
                    }
                } finally {
                    for (QmpClient m : many) {
                        m.close();
                    }
                }
                c.execute("quit", null).join();
            } finally {
                p.waitFor();
            }
            return 0;
        } catch (Exception e) {
            console.err.println("lbrvmm: bench qmp: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
    }

    /** Each client keeps 8 requests in flight (QMP's advice) until it has sent {@code each}. */
    private static double throughput(List<QmpClient> clients, int each) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients.size());
        try {
            long t0 = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (QmpClient c : clients) {
                fs.add(pool.submit(() -> {
                    ArrayList<CompletableFuture<?>> window = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        window.add(c.execute("query-status", null));
                        if (window.size() == 8) {
                            window.remove(0).join();
                        }
                    }
                    window.forEach(CompletableFuture::join);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            return (double) each * clients.size() / ((System.nanoTime() - t0) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }
}
