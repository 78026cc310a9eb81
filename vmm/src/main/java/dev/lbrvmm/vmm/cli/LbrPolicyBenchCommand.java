package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.vmm.bench.GuestTiming;
import dev.lbrvmm.vmm.kvm.GuestLbrPolicy;
import dev.lbrvmm.vmm.kvm.LbrStats;
import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigException;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineException;
import dev.lbrvmm.vmm.machine.MachineExit;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code lbrvmm bench lbr-policy}: every guest-LBR policy on fixed workloads, each guest sharing
 * its physical CPU with a branchy host process that has its own LBR user (configs/contention.conf
 * with {@code --time-slice} instruction slices). Per policy and workload: VM exits, LBR-MSR exits,
 * context switches, LBR MSR accesses per context switch, modelled overhead cycles per million
 * guest instructions, whether the guest's records stayed its own, and interpreter speed.
 */
@Command(name = "lbr-policy", mixinStandardHelpOptions = true,
        description = "Compares the guest-LBR policies (lazy, upstream, eager, passthrough-unsaved) on three guests - one that "
                + "never uses the LBR (fib), one that profiles with it (lbr_profile), one that toggles it (lbr_toggle) - each "
                + "sharing its CPU with a branchy host task that uses the LBR.")
final class LbrPolicyBenchCommand implements Callable<Integer> {
    private final Main.Console console;

    @Option(names = "--time-slice", paramLabel = "N", description = "Scheduler time slice in guest instructions (default: ${DEFAULT-VALUE}).")
    long timeSlice = 1000;

    @Mixin
    ConfigOverrides overrides = new ConfigOverrides();

    LbrPolicyBenchCommand(Main.Console console) {
        this.console = console;
    }

    record Workload(String name, String program, boolean readsLbr) {}

    static final List<Workload> WORKLOADS = List.of(
            new Workload("never", "examples/bin/fib.elf", false),
            new Workload("profile", "examples/bin/lbr_profile.elf", true),
            new Workload("toggle", "examples/bin/lbr_toggle.elf", true));

    /** One measured run. */
    record Row(String workload, String policy, LbrStats stats, long overheadPerMillion, String correct, double mips) {
        double msrPerSwitch() {
            return stats.contextSwitches() == 0 ? 0 : (double) stats.saveRestore().msrAccesses() / stats.contextSwitches();
        }
    }

    static Row measure(Workload w, String policy, long slice, List<String> extra) throws GuestConfigException, MachineException {
        List<String> o = new ArrayList<>(extra);
        o.add("kvm.lbr-policy=" + policy);
        o.add("host.time-slice=" + slice);
        o.add("guest.msrs.IA32_DEBUGCTL=0");
        o.add("guest.serial.output=none");
        o.add("guest.program.path=" + GuestTiming.home().resolve(w.program()));
        GuestConfig cfg = GuestConfigLoader.load(GuestTiming.home().resolve("configs/contention.conf"), o);
        try (Machine m = Machine.create(cfg, new PrintStream(OutputStream.nullOutputStream()), System.err)) {
            long t0 = System.nanoTime();
            MachineExit exit = m.run();
            long t1 = System.nanoTime();
            LbrStats s = m.vm().stats();
            long perM = s.instructions() == 0 ? 0 : s.overheadCycles(m.vm().costs()) * 1_000_000 / s.instructions();
            String ok = !w.readsLbr() ? "n/a" : exit.kind() == MachineExit.Kind.GUEST_EXIT && exit.status() == 0 ? "yes" : "NO";
            return new Row(w.name(), policy, s, perM, ok, s.instructions() / ((t1 - t0) / 1e3));
        }
    }

    @Mixin
    JsonOption json = new JsonOption();

    /** {@code bench lbr-policy --json}: a row per workload and policy. */
    record Result(long timeSlice, List<PolicyRow> rows) {}

    record PolicyRow(String workload, String policy, long instructions, long exits, long lbrMsrExits, long contextSwitches,
            double msrAccessesPerSwitch, long overheadCyclesPerMillion, String correct, double mips) {}

    @Override
    public Integer call() {
        if (timeSlice < 1) {
            console.err.println("lbrvmm: bench lbr-policy: --time-slice must be at least 1 guest instruction, got " + timeSlice);
            return ExitCodes.USAGE;
        }
        try {
            if (!json.json) {
                console.out.printf("%-8s %-20s %12s %9s %9s %9s %12s %14s %8s %7s%n", "workload", "policy", "instructions", "exits",
                        "LBR exits", "switches", "MSR/switch", "cycles/M insn", "correct", "MIPS");
            }
            List<PolicyRow> rows = new ArrayList<>();
            for (Workload w : WORKLOADS) {
                for (String p : GuestLbrPolicy.NAMES) {
                    Row r = measure(w, p, timeSlice, overrides.values);
                    rows.add(new PolicyRow(r.workload(), r.policy(), r.stats().instructions(), r.stats().exits(), r.stats().lbrMsrExits(),
                            r.stats().contextSwitches(), r.msrPerSwitch(), r.overheadPerMillion(), r.correct(), r.mips()));
                    if (json.json) {
                        continue;
                    }
                    console.out.printf("%-8s %-20s %,12d %,9d %,9d %,9d %12.1f %,14d %8s %7.1f%n", r.workload(), r.policy(),
                            r.stats().instructions(), r.stats().exits(), r.stats().lbrMsrExits(), r.stats().contextSwitches(),
                            r.msrPerSwitch(), r.overheadPerMillion(), r.correct(), r.mips());
                }
            }
            if (json.json) {
                json.print(console, new Result(timeSlice, rows));
                return 0;
            }
            console.out.printf("(host: 1 CPU shared with a branchy task that has a task-pinned LBR event; time slice %d instructions;"
                    + " costs from kvm.cost)%n", timeSlice);
            return 0;
        } catch (GuestConfigException | MachineException e) {
            console.err.println("lbrvmm: error: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        }
    }
}
