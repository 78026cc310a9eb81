package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.host.BranchyWorkload;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.Machine;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import dev.lbrvmm.vmm.CapturedLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The guest-LBR policies in whole-machine scenarios: contention, reclaim, two vCPUs on one CPU. */
@ExtendWith(CapturedLog.class)
class PolicyScenarioTest {
    private static String config(String name) {
        return CliRunner.home().resolve("configs/" + name + ".conf").toString();
    }

    private static String pmuLbr() {
        return CliRunner.home().resolve("examples/bin/pmu_lbr.elf").toString();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lazy", "upstream", "eager"})
    void pmuLbrPassesUnderContentionWithEveryProtectingPolicy(String policy) {
        CliRunner.Result r = CliRunner.run("run", config("contention"), "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=" + policy,
                "-o", "guest.msrs.IA32_DEBUGCTL=0", "-o", "host.time-slice=1000", "--stats");
        assertThat(r.out()).doesNotContain("FAIL").contains("PASS: every FROM and TO entry is one of the guest's own branches");
        assertThat(r.status()).isZero();
        assertThat(r.err()).contains("policy " + policy).contains("context switches");
    }

    @Test
    void passthroughUnsavedIsCaughtByTheOwnRecordsCheckOnly() {
        CliRunner.Result r = CliRunner.run("run", config("contention"), "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=passthrough-unsaved",
                "-o", "guest.msrs.IA32_DEBUGCTL=0", "-o", "host.time-slice=1000");
        assertThat(r.out()).contains("PASS: the LBR has entries").contains("PASS: LBR_TOS is non-zero")
                .contains("PASS: every FROM and TO entry is non-zero")
                .contains("FAIL: every FROM and TO entry is one of the guest's own branches");
        assertThat(r.status()).isEqualTo(1);
    }

    /**
     * Upstream releases the event at the first cleanup after a sched-in whenever DEBUGCTL.LBR = 0,
     * whether or not the guest still reads the LBR (intel_pmu_lbr_cleanup looks only at DEBUGCTL.LBR); the next access
     * recreates it and perf's first-add reset zeroes the records. A guest switched out while it
     * reads its stack after clearing LBR loses it; lazy keeps an event that was used in the slice.
     */
    @Test
    void upstreamLosesTheStackWhenSwitchedOutWhileReadingItWithLbrOff() {
        CliRunner.Result up = CliRunner.run("run", config("contention"), "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=upstream",
                "-o", "guest.msrs.IA32_DEBUGCTL=0", "-o", "host.time-slice=300", "--stats");
        assertThat(up.out()).contains("FAIL: every FROM and TO entry is non-zero");
        assertThat(up.err()).containsPattern("events created +[1-9]");
        CliRunner.Result lazy = CliRunner.run("run", config("contention"), "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=lazy",
                "-o", "guest.msrs.IA32_DEBUGCTL=0", "-o", "host.time-slice=300");
        assertThat(lazy.out()).doesNotContain("FAIL");
    }

    @Test
    void reclaimMakesTheHostWinWithoutFaultingTheGuest() {
        CliRunner.Result r = CliRunner.run("run", config("reclaim"), "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=upstream",
                "-o", "guest.msrs.IA32_DEBUGCTL=0", "--stats");
        // The "vcpu-0: fail to passthrough LBR." warnings go to the log (the process's stderr); --stats counts them.
        assertThat(r.err()).containsPattern("accesses lost to host reclaim +[1-9]").containsPattern("\\n  warnings +[1-9]");
        assertThat(CapturedLog.messages()).contains("WARN: vcpu-0: fail to passthrough LBR.");
        assertThat(CapturedLog.messages()).as("ten warnings, the last saying the rest are counted, then one line for the rest at teardown")
                .filteredOn(m -> m.startsWith("WARN: vcpu-0: fail to passthrough LBR.")).hasSize(10).last().asString()
                .endsWith("(further warnings of this vCPU are counted, not printed)");
        assertThat(CapturedLog.messages()).anyMatch(m -> m.matches(
                "WARN: vcpu-0: [1-9][0-9,]* more warnings suppressed \\(the last: fail to passthrough LBR\\.\\); --stats counts them"));
        assertThat(r.out()).contains("FAIL: every FROM and TO entry is non-zero");
        assertThat(r.status()).as("check failures, not a crash").isBetween(1, 4);
    }

    @Test
    void logFileTakesTheWarningsOffStderr(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("vm.log");
        CliRunner.Result r = CliRunner.run("run", config("reclaim"), "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=upstream",
                "-o", "guest.msrs.IA32_DEBUGCTL=0", "--log", log.toString());
        assertThat(r.err()).isEmpty();
        assertThat(Files.readString(log)).containsPattern("[0-9:.]+ lbrvmm: WARN: vcpu-0: fail to passthrough LBR.")
                .contains("more warnings suppressed");
        CliRunner.Result bad = CliRunner.run("run", config("reclaim"), "--log", dir.resolve("no/such/folder.log").toString());
        assertThat(bad.status()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(bad.err()).contains("--log").contains("does not exist");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lazy", "upstream", "eager", "passthrough-unsaved"})
    void dumpUnderContentionHoldsTheGuestsOwnLastBranchesUnlessUnsaved(String policy) throws Exception {
        GuestConfig cfg = GuestConfigLoader.load(Path.of(config("contention")),
                List.of("kvm.lbr-policy=" + policy, "guest.serial.output=none"));
        try (Machine m = Machine.create(cfg, new PrintStream(OutputStream.nullOutputStream()), System.err)) {
            Vcpu v = m.vm().vcpus().get(0);
            LbrExamplesTest.LastBranches trace = new LbrExamplesTest.LastBranches();
            v.setBranchTracer(trace);
            m.run();
            LbrSnapshot s = v.lbrSnapshot().orElseThrow();
            List<Long> own = new ArrayList<>();
            for (int k = 0; k < 32; k++) {
                own.add(trace.from[(int) ((trace.count - 1 - k) & 63)]);
            }
            List<Long> got = s.entries().stream().map(LbrSnapshot.Entry::from).toList();
            if (policy.equals("passthrough-unsaved")) {
                assertThat(got).anySatisfy(f -> assertThat(f).isBetween(BranchyWorkload.CODE, BranchyWorkload.CODE + 0x100));
            } else {
                assertThat(got).isEqualTo(own);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lazy", "upstream", "eager"})
    void twoVcpusOnOneCpuEachSeeOnlyTheirOwnBranches(String policy, @TempDir Path dir) throws Exception {
        // vCPU 0 (APIC ID 0) counts down 3000 and leaves through isa-debug-exit; vCPU 1 runs a different loop.
        Path prog = dir.resolve("smp.bin");
        Files.write(prog, HexFormat.of().parseHex(
                "b8010000000fa2c1eb1885db750e b9b80b0000 ffc975fc 31c0 e7f4 f4 b988130000 90 ffc9 75fb f4".replace(" ", "")));
        GuestConfig cfg = GuestConfigLoader.load(null, List.of("guest.program.path=" + prog, "guest.program.format=flat",
                "guest.vcpus=2", "guest.ap-start=entry", "kvm.guest-lbr=on", "kvm.lbr-policy=" + policy,
                "guest.msrs.IA32_DEBUGCTL=1", "host.time-slice=500", "guest.serial.output=none"));
        try (Machine m = Machine.create(cfg, new PrintStream(OutputStream.nullOutputStream()), System.err)) {
            List<LbrExamplesTest.LastBranches> traces = new ArrayList<>();
            for (Vcpu v : m.vm().vcpus()) {
                LbrExamplesTest.LastBranches t = new LbrExamplesTest.LastBranches();
                v.setBranchTracer(t);
                traces.add(t);
            }
            assertThat(m.run().status()).as("vCPU 0 left through isa-debug-exit").isEqualTo(1);
            assertThat(traces.get(1).count).as("vCPU 1 ran its own loop over several slices").isGreaterThan(1000);
            for (Vcpu v : m.vm().vcpus()) {
                LbrExamplesTest.LastBranches t = traces.get(v.index());
                List<Long> own = new ArrayList<>();
                for (int k = 0; k < Math.min(32, t.count); k++) {
                    own.add(t.from[(int) ((t.count - 1 - k) & 63)]);
                }
                assertThat(v.lbrSnapshot().orElseThrow().entries()).extracting(LbrSnapshot.Entry::from)
                        .as("vCPU %d under %s", v.index(), policy).isEqualTo(own);
            }
            assertThat(m.vm().vcpus().get(0).stats().contextSwitches()).isGreaterThan(2);
        }
    }

    @Test
    void sameConfigSameRunSameResult(@TempDir Path dir) throws Exception {
        String[] outs = new String[2];
        String[] stats = new String[2];
        for (int i = 0; i < 2; i++) {
            Path dump = dir.resolve("lbr.json"); // one name: stderr names it
            CliRunner.Result r = CliRunner.run("run", config("contention"), "-o", "kvm.lbr-policy=upstream", "--stats",
                    "--dump-lbr", dump.toString());
            outs[i] = Files.readString(dump);
            // all but the translating engine's own section: when background translations land varies
            stats[i] = r.err().replaceFirst("(?s)lbrvmm: stats: translating engine.*", "");
            assertThat(stats[i]).contains("LBR saves");
        }
        assertThat(outs[1]).isEqualTo(outs[0]);
        assertThat(stats[1]).isEqualTo(stats[0]);
    }

    @Test
    void hostTaskConfigErrorsNameTheEntry(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.conf");
        Files.writeString(bad, "host { cpus = 2\n  tasks = [ { name = x, cpus = [5] } ] }\n");
        CliRunner.Result r = CliRunner.run("run", bad.toString(), "--kernel", pmuLbr());
        assertThat(r.err()).contains("bad.conf:2").contains("host.tasks").contains("CPU 5");
        Files.writeString(bad, "host.tasks = [ { nam = x } ]\n");
        assertThat(CliRunner.run("run", bad.toString(), "--kernel", pmuLbr()).err()).contains("unknown key 'host.tasks[0].nam'");
        assertThat(CliRunner.run("run", "--kernel", pmuLbr(), "-o", "kvm.lbr-policy=sometimes").err())
                .contains("kvm.lbr-policy").contains("lazy, upstream, eager, passthrough-unsaved");
    }

    @Test
    void policyBenchPrintsEveryPolicyAndWorkload() {
        CliRunner.Result r = CliRunner.run("bench", "lbr-policy", "--time-slice", "5000");
        assertThat(r.status()).isZero();
        assertThat(r.out().lines().filter(l -> l.startsWith("never") || l.startsWith("profile") || l.startsWith("toggle"))).hasSize(12);
        assertThat(r.out()).containsPattern("never +lazy .* 0\\.0 ").containsPattern("profile +passthrough-unsaved .* NO ")
                .containsPattern("profile +upstream .* yes ");
    }
}
