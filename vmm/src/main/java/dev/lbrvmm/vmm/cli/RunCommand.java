package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.host.Tracer;
import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineException;
import dev.lbrvmm.vmm.machine.MachineExit;
import dev.lbrvmm.vmm.machine.OutputFile;
import dev.lbrvmm.vmm.machine.OutputTarget;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import dev.lbrvmm.vmm.qmp.LbrStackJson;
import dev.lbrvmm.vmm.qmp.SampleStreamIdentity;
import dev.lbrvmm.vmm.report.SampleFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lbrvmm run [CONFIG] [-o key=value]... [--kernel FILE] [--dump-lbr FILE]}. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Builds a guest from a HOCON config and runs it until it exits.",
                "Without CONFIG the defaults of reference.conf apply (one vCPU, skylake-client, 64 MiB)."})
final class RunCommand implements Callable<Integer> {
    private final Main.Console console;

    @Mixin
    GuestOptions guest = new GuestOptions();

    @Mixin
    LogOption log = new LogOption();

    @Mixin
    ProgressOption progress = new ProgressOption();

    @Option(names = "--dump-lbr", paramLabel = "FILE", description = "Write each vCPU's LBR stack as JSON to FILE when the guest exits.")
    Path dumpLbr;

    @Option(names = "--stats", description = "Print the KVM model's guest-LBR accounting to stderr when the guest exits "
            + "(a table; with --json one JSON object with query-lbr-stats' members per vCPU and for the VM).")
    boolean stats;

    @Option(names = "--trace", paramLabel = "FILE", description = "Write the VMM's events (scheduling, VM exits, MSR traps, "
            + "guest-LBR decisions, PMIs, monitor commands) to FILE in the Trace Event Format, for Perfetto (ui.perfetto.dev) or chrome://tracing.")
    Path trace;

    @Option(names = "--trace-events", paramLabel = "LIST", split = ",", description = "The kinds of events --trace writes "
            + "(default: all): sched, exit, msr, lbr, pmi, qmp.")
    List<String> traceEvents;

    @Option(names = "--json", description = "With --stats: the accounting as one line of JSON instead of a table.")
    boolean json;

    @Option(names = "--qmp", paramLabel = "ADDRESS", description = "Serve a QMP monitor on tcp:HOST:PORT or unix:PATH (repeatable; "
            + "QEMU's -qmp syntax, ',server=on,wait=off' accepted). An empty host means loopback.")
    List<String> qmp = new ArrayList<>();

    @Option(names = "-S", description = "Start paused (prelaunch) until a monitor client sends 'cont'.")
    boolean startPaused;

    RunCommand(Main.Console console) {
        this.console = console;
    }

    @Override
    public Integer call() {
        List<dev.lbrvmm.monitor.netty.QmpAddress> early = new ArrayList<>();
        try {
            for (String a : qmp) {
                early.add(dev.lbrvmm.monitor.netty.QmpAddress.parse(a));
            }
        } catch (IllegalArgumentException e) {
            console.err.println("lbrvmm: error: --qmp " + e.getMessage());
            return ExitCodes.USAGE;
        }
        MonitorSession monitor = null;
        try {
            log.apply();
            if (!early.isEmpty()) {
                monitor = MonitorSession.start(early, console); // the greeting should not wait for the machine
            }
            GuestConfig cfg = guest.load(List.of());
            if (monitor == null && !cfg.monitor().qmp().isEmpty()) {
                List<dev.lbrvmm.monitor.netty.QmpAddress> fromConfig = new ArrayList<>();
                for (String a : cfg.monitor().qmp()) {
                    fromConfig.add(dev.lbrvmm.monitor.netty.QmpAddress.parse(a));
                }
                monitor = MonitorSession.start(fromConfig, console);
            }
            refuseOutputsOverInputs(cfg);
            // no status line under a monitor: the run may sit paused, and a script's output is the user's
            RunProgress status = new RunProgress(console.err, progress.enabled() && monitor == null, System.nanoTime());
            try (status; Machine m = Machine.create(cfg, status.around(console.out), status.around(console.err));
                    Tracer tracer = startTrace(m)) {
                status.start(m::instructionsRetired);
                MachineExit exit;
                if (monitor != null) {
                    exit = monitor.run(m, startPaused || cfg.monitor().startPaused());
                    if (exit == null) {
                        return 0; // quit
                    }
                } else {
                    exit = m.run();
                }
                reportExit(exit, console);
                if (stats) {
                    StatsReport.print(m.vm(), console.err, json);
                }
                if (dumpLbr != null) {
                    try {
                        List<dev.lbrvmm.vmm.kvm.Vcpu> vcpus = m.vm().vcpus();
                        Optional<ProgramIdentity> program = cfg.program().path() == null ? Optional.empty()
                                : Optional.of(ProgramIdentity.of(cfg.program().path()));
                        OutputFile.replace(dumpLbr, tmp -> LbrStackJson.write(tmp, vcpus, program));
                        console.err.println("lbrvmm: LBR stacks of " + vcpus.size() + " vCPU" + (vcpus.size() == 1 ? "" : "s")
                                + " written to " + dumpLbr);
                    } catch (IOException e) {
                        throw new MachineException("--dump-lbr: cannot write " + dumpLbr + ": " + e.getMessage());
                    }
                }
                nameFileOutputs(cfg, m, console);
                if (trace != null) {
                    tracer.close();
                    if (tracer.failure().isPresent()) {
                        console.err.println("lbrvmm: error: --trace: cannot write " + trace + ": " + tracer.failure().get().getMessage());
                        return ExitCodes.BAD_INPUT;
                    }
                    console.err.println("lbrvmm: trace written to " + trace + " (open it in ui.perfetto.dev or chrome://tracing)");
                }
                return exitStatus(m, exit, console);
            }
        } catch (GuestConfigException | MachineException | IOException e) {
            console.err.println("lbrvmm: error: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.INTERNAL;
        } finally {
            if (monitor != null) {
                monitor.close();
            }
            log.restore();
        }
    }

    /** The tracer for --trace (Tracer.OFF without it), attached to the machine's host, with its vCPUs named. */
    private Tracer startTrace(Machine m) throws IOException, MachineException {
        if (trace == null) {
            return Tracer.OFF;
        }
        java.util.EnumSet<Tracer.Category> kinds = java.util.EnumSet.allOf(Tracer.Category.class);
        if (traceEvents != null) {
            kinds.clear();
            for (String k : traceEvents) {
                try {
                    kinds.add(Tracer.Category.valueOf(k.trim().toUpperCase(java.util.Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new MachineException("--trace-events: '" + k + "' is not one of sched, exit, msr, lbr, pmi, qmp");
                }
            }
        }
        Tracer t;
        try {
            t = Tracer.to(java.nio.file.Files.newBufferedWriter(trace), kinds);
        } catch (IOException e) {
            throw new IOException("--trace: cannot write " + trace + ": " + e.getMessage(), e);
        }
        m.vm().kvm().host().trace(t);
        for (dev.lbrvmm.vmm.kvm.Vcpu v : m.vm().vcpus()) {
            t.threadName(Tracer.GUEST, v.index(), "vcpu" + v.index());
        }
        return t;
    }

    /** An output that names one of the run's inputs (config, program, initrd) is refused before anything is opened. */
    private void refuseOutputsOverInputs(GuestConfig cfg) throws MachineException {
        refuseOutputsOverInputs(guest.config, cfg, "--dump-lbr", dumpLbr);
        refuseOutputsOverInputs(guest.config, cfg, "--trace", trace);
    }

    /** Refuses an output of the run (the serial and stdout files, and {@code option}'s file) that is one of its inputs. */
    static void refuseOutputsOverInputs(Path config, GuestConfig cfg, String option, Path file) throws MachineException {
        Map<String, Path> in = new LinkedHashMap<>();
        in.put("the config file", config);
        in.put("the guest program", cfg.program().path());
        in.put("the initrd", cfg.program().initrd());
        Map<String, Path> out = new LinkedHashMap<>();
        out.put(option, file);
        out.put("guest.serial.output", fileOf(cfg.guest().serial()));
        out.put("guest.program.stdout", fileOf(cfg.program().stdout()));
        for (Map.Entry<String, Path> o : out.entrySet()) {
            Optional<String> c = OutputFile.clash(o.getValue(), in);
            if (c.isPresent()) {
                throw new MachineException(o.getKey() + " " + o.getValue() + " is " + c.get() + "; refusing to overwrite it");
            }
        }
    }

    /** Says where the guest's file outputs went (a relative guest.serial.output is relative to the config, not here). */
    static void nameFileOutputs(GuestConfig cfg, Machine m, Main.Console console) {
        if (m.outputFailure().isPresent()) {
            return; // said already, as an error
        }
        Path serial = fileOf(cfg.guest().serial());
        Path stdout = fileOf(cfg.program().stdout());
        if (serial != null) {
            console.err.println("lbrvmm: COM1 output (guest.serial.output) written to " + serial);
            nameSampleStreamProgram(serial, cfg, console);
        }
        if (stdout != null && !stdout.equals(serial)) {
            console.err.println("lbrvmm: program output (guest.program.stdout) written to " + stdout);
        }
    }

    /**
     * A sample stream (the sampling guest's COM1 bytes) gets its program's identity in a side file,
     * so that report finds the program and warns about a different -p, as for dumps and data files.
     */
    private static void nameSampleStreamProgram(Path serial, GuestConfig cfg, Main.Console console) {
        try {
            if (cfg.program().path() == null || !Files.isRegularFile(serial) || SampleFile.kindOf(serial) == SampleFile.Kind.OTHER) {
                return;
            }
            Path side = SampleStreamIdentity.write(serial, ProgramIdentity.of(cfg.program().path()));
            console.err.println("lbrvmm: the sample stream's program identity written to " + side);
        } catch (IOException e) {
            console.err.println("lbrvmm: warning: cannot write the identity of sample stream " + serial + ": " + e.getMessage());
        }
    }

    /** One line on stderr for an exit that is not the guest's own (crash, all halted, an output that failed). */
    static void reportExit(MachineExit exit, Main.Console console) {
        if (exit.kind() == MachineExit.Kind.TRIPLE_FAULT || exit.kind() == MachineExit.Kind.INTERNAL_ERROR) {
            console.err.println("lbrvmm: guest crashed: " + exit.message());
        } else if (exit.kind() == MachineExit.Kind.HALTED) {
            console.err.println("lbrvmm: " + exit.message());
        } else if (exit.kind() == MachineExit.Kind.OUTPUT_ERROR) {
            console.err.println("lbrvmm: error: " + exit.message() + "; the guest was stopped");
        }
    }

    /** QEMU's rule: the guest's status, unless an output failed at the last flush after the guest ended. */
    static int exitStatus(Machine m, MachineExit exit, Main.Console console) {
        Optional<String> lateFailure = m.outputFailure();
        if (exit.kind() != MachineExit.Kind.OUTPUT_ERROR && lateFailure.isPresent()) {
            console.err.println("lbrvmm: error: " + lateFailure.get());
            return ExitCodes.BAD_INPUT;
        }
        return exit.status();
    }

    private static Path fileOf(OutputTarget t) {
        return t != null && t.kind() == OutputTarget.Kind.FILE ? t.file() : null;
    }
}
