package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.DebugCtl;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.cpu.Msr;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.GuestSection;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineException;
import dev.lbrvmm.vmm.machine.MachineExit;
import dev.lbrvmm.vmm.machine.OutputFile;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import dev.lbrvmm.vmm.qmp.LbrStackJson;
import dev.lbrvmm.vmm.qmp.RecordFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lbrvmm record}: the LBR in one command, in the spirit of {@code perf record -b}. Turns on
 * the VM's guest LBR and the guest's DEBUGCTL.LBR, samples every vCPU's LBR stack at the end of
 * each scheduling slice (the VMM reads the stack the guest would read; the guest is not
 * interrupted), keeps the stacks at exit, and writes them with the config, the CPU's LBR geometry
 * and the program's identity and symbols to one data file ({@link RecordFile}).
 */
@Command(name = "record", mixinStandardHelpOptions = true,
        description = {"Runs a guest with its LBR recording (like perf record -b) and writes the branch stacks to one data file "
                + "(default lbrvmm.data) with the config, the CPU's LBR geometry and the program's identity and symbols. "
                + "'lbrvmm report' with no argument reads it.",
                "Turns on kvm.guest-lbr and IA32_DEBUGCTL.LBR; every --period guest instructions (the scheduler's slice while "
                        + "recording) each vCPU's LBR stack is sampled without interrupting the guest; the stacks at exit are kept too. "
                        + "-o sets config keys, as for run; the data file is named with --output."})
final class RecordCommand implements Callable<Integer> {
    /** MSR_LBR_SELECT for call-stack mode as perf sets it for --call-graph lbr: calls and returns only, EN_CALLSTACK. */
    private static final long PERF_CALL_STACK_SELECT = 0x3c4;

    private final Main.Console console;

    @Spec
    CommandSpec spec;

    @Mixin
    GuestOptions guest = new GuestOptions();

    @Mixin
    LogOption log = new LogOption();

    @Mixin
    ProgressOption progress = new ProgressOption();

    @Option(names = "--output", paramLabel = "FILE", description = "The data file to write (default: ${DEFAULT-VALUE}).")
    Path output = Path.of(RecordFile.DEFAULT_NAME);

    @Option(names = "--period", paramLabel = "N", description = "Guest instructions between samples, used as host.time-slice "
            + "while recording (default: the config's time slice; 0 = only the stacks at exit).")
    Long period;

    @Option(names = "--call-graph", paramLabel = "lbr", description = "lbr: LBR call-stack mode (MSR_LBR_SELECT = 0x3c4, as "
            + "perf record --call-graph lbr sets it): each stack is the chain of open calls. Needs a CPU model whose LBR has it.")
    String callGraph;

    RecordCommand(Main.Console console) {
        this.console = console;
    }

    @Override
    public Integer call() {
        if (period != null && period < 0) {
            console.err.println("lbrvmm: record: --period must be 0 or more, got " + period);
            return ExitCodes.USAGE;
        }
        if (callGraph != null && !callGraph.equals("lbr")) {
            console.err.println("lbrvmm: record: --call-graph takes 'lbr' (LBR call-stack mode), got '" + callGraph + "'");
            return ExitCodes.USAGE;
        }
        try {
            log.apply();
            List<String> settings = settings();
            GuestConfig cfg = guest.load(settings);
            CpuModel model = cfg.guest().cpuModel();
            if (callGraph != null && !model.hasCallStack()) {
                console.err.println("lbrvmm: record: --call-graph lbr: the CPU model " + model.name()
                        + " has no LBR call-stack mode (choose one with -o guest.cpu.model=... and host.cpu-model)");
                return ExitCodes.USAGE;
            }
            RunCommand.refuseOutputsOverInputs(guest.config, cfg, "--output", output);
            long every = period != null ? period : cfg.host().timeSlice();
            RunProgress status = new RunProgress(console.err, progress.enabled(), System.nanoTime());
            try (status; Machine m = Machine.create(cfg, status.around(console.out), status.around(console.err))) {
                status.start(m::instructionsRetired);
                List<RecordFile.Stack> samples = new ArrayList<>();
                long[] sampledAt = new long[m.vm().vcpus().size()];
                MachineExit exit = m.runUntil(() -> {
                    if (every > 0) {
                        sample(m, every, sampledAt, samples);
                    }
                    return false;
                });
                RunCommand.reportExit(exit, console);
                RunCommand.nameFileOutputs(cfg, m, console);
                write(cfg, m, settings, every, samples);
                return RunCommand.exitStatus(m, exit, console);
            }
        } catch (GuestConfigException | MachineException | IOException e) {
            console.err.println("lbrvmm: error: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        } finally {
            log.restore();
        }
    }

    /** The config keys recording sets after the user's: guest LBR, DEBUGCTL.LBR (other bits kept), the period, call-stack mode. */
    private List<String> settings() throws GuestConfigException {
        List<String> more = new ArrayList<>(List.of("kvm.guest-lbr=on"));
        if (period != null && period > 0) {
            more.add("host.time-slice=" + period);
        }
        if (callGraph != null) {
            more.add("guest.msrs.MSR_LBR_SELECT=" + PERF_CALL_STACK_SELECT);
        }
        long debugctl = guest.load(more).guest().msrs().stream().filter(s -> s.index() == Msr.IA32_DEBUGCTL)
                .mapToLong(GuestSection.MsrSetting::value).reduce((a, b) -> b).orElse(0);
        more.add("guest.msrs.IA32_DEBUGCTL=" + (debugctl | DebugCtl.LBR));
        return more;
    }

    /** A sample of each vCPU that retired a period's instructions since its last one and has records. */
    private static void sample(Machine m, long every, long[] sampledAt, List<RecordFile.Stack> samples) {
        for (Vcpu v : m.vm().vcpus()) {
            long retired = v.cpu().retired();
            if (retired - sampledAt[v.index()] < every) {
                continue;
            }
            sampledAt[v.index()] = retired;
            Optional<LbrSnapshot> s = v.lbrSnapshot();
            if (s.isPresent() && !s.get().entries().isEmpty()) {
                LbrSnapshot l = s.get(); // with the guest's DEBUGCTL, as the dump shows it
                samples.add(new RecordFile.Stack(samples.size() + 1, v.index(), retired, v.cpu().rip(),
                        new LbrSnapshot(l.model(), l.format(), l.depth(), l.tos(), v.guestDebugctl(), l.lbrSelect(), l.entries())));
            }
        }
    }

    private void write(GuestConfig cfg, Machine m, List<String> settings, long every, List<RecordFile.Stack> samples)
            throws MachineException {
        Path program = cfg.program().path();
        Vcpu first = m.vm().vcpus().get(0);
        try {
            RecordFile.Header header = new RecordFile.Header(spec.commandLine().getParseResult().originalArgs(),
                    guest.config == null ? "" : guest.config.toAbsolutePath().normalize().toString(),
                    guest.config == null ? "" : Files.readString(guest.config), guest.overrides.with(settings),
                    program == null ? Optional.empty() : Optional.of(ProgramIdentity.of(program)), first.model().name(),
                    first.model().lbrFormat(), first.model().lbrDepth(), every, m.program().symbols());
            List<dev.lbrvmm.vmm.qmp.QmpReplies.LbrStack> atExit = LbrStackJson.dump(m.vm().vcpus()).vcpus();
            OutputFile.replace(output, tmp -> RecordFile.write(tmp, header, samples, atExit));
            long records = samples.stream().mapToLong(s -> s.lbr().entries().size()).sum()
                    + atExit.stream().mapToLong(s -> s.entries().size()).sum();
            console.err.printf(Locale.ROOT, "lbrvmm: record: %,d samples and %d stack(s) at exit (%,d branch records; %s, %d-entry LBR, "
                    + "format %d) written to %s; 'lbrvmm report%s' reads it%n", samples.size(), atExit.size(), records,
                    first.model().name(), first.model().lbrDepth(), first.model().lbrFormat(), output,
                    output.equals(Path.of(RecordFile.DEFAULT_NAME)) ? "" : " " + output);
            if (records == 0) {
                console.err.println("lbrvmm: record: warning: no branch was recorded (did the guest clear DEBUGCTL.LBR, "
                        + "or exit before its first branch?)");
            }
        } catch (IOException e) {
            throw new MachineException("--output: cannot write " + output + ": " + e.getMessage());
        }
    }
}
