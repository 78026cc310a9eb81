package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lbrvmm.vmm.cpu.BranchKind;
import dev.lbrvmm.vmm.cpu.BranchListener;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.machine.GuestConfig;
import dev.lbrvmm.vmm.machine.GuestConfigLoader;
import dev.lbrvmm.vmm.machine.Machine;
import dev.lbrvmm.vmm.machine.MachineExit;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The LBR model observed from outside: dumps, the interpreter's own trace, the pmu_lbr guest. */
class LbrExamplesTest {

    /** Keeps the last 64 taken branches the interpreter reported. */
    static final class LastBranches implements BranchListener {
        final long[] from = new long[64];
        final long[] to = new long[64];
        long count;

        @Override
        public void onBranch(long f, long t, BranchKind kind, int cpl) {
            int i = (int) (count++ & 63);
            from[i] = f;
            to[i] = t;
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"loop,skylake-client", "fib,skylake-client", "sort,skylake-client", "dispatch,skylake-client",
        "callchain,skylake-client", "primes,skylake-client", "fib,haswell", "dispatch,nehalem", "sort,goldmont",
        "callchain,knights-landing", "dispatch,core2"})
    void lbrHoldsExactlyTheLastDepthTakenBranches(String example, String model) throws Exception {
        GuestConfig cfg = GuestConfigLoader.load(CliRunner.home().resolve("configs/" + example + ".conf"),
                List.of("kvm.guest-lbr=on", "guest.msrs.IA32_DEBUGCTL=1", "guest.cpu.model=" + model, "host.cpu-model=" + model,
                        "guest.serial.output=none"));
        try (Machine m = Machine.create(cfg, new PrintStream(OutputStream.nullOutputStream()), System.err)) {
            Vcpu v = m.vm().vcpus().get(0);
            LastBranches trace = new LastBranches();
            v.setBranchTracer(trace);
            MachineExit exit = m.run();
            assertThat(exit.kind()).isEqualTo(MachineExit.Kind.GUEST_EXIT);
            LbrSnapshot s = v.lbrSnapshot().orElseThrow();
            assertThat(trace.count).isGreaterThan(s.depth());
            assertThat(s.entries()).hasSize(s.depth());
            assertThat(s.tos()).isEqualTo((int) (trace.count % s.depth()));
            for (int k = 0; k < s.depth(); k++) {
                int i = (int) ((trace.count - 1 - k) & 63);
                assertThat(s.entries().get(k).from()).as("entry %d from", k).isEqualTo(trace.from[i]);
                assertThat(s.entries().get(k).to()).as("entry %d to", k).isEqualTo(trace.to[i]);
            }
        }
    }

    @Test
    void dumpLbrWritesTheDocumentedJson(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("lbr.json");
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(),
                "-o", "kvm.guest-lbr=on", "-o", "guest.msrs.IA32_DEBUGCTL=1", "--dump-lbr", out.toString());
        assertThat(r.status()).isEqualTo(0);
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        JsonNode v = root.get("vcpus").get(0);
        assertThat(v.get("index").asInt()).isZero();
        assertThat(v.get("model").asText()).isEqualTo("skylake-client");
        assertThat(v.get("format").asInt()).isEqualTo(5);
        assertThat(v.get("depth").asInt()).isEqualTo(32);
        assertThat(v.get("debugctl").asLong()).isEqualTo(1);
        assertThat(v.get("lbr_select").asLong()).isZero();
        assertThat(v.get("entries")).hasSize(32);
        JsonNode e = v.get("entries").get(0);
        assertThat(e.get("from").isIntegralNumber()).isTrue();
        assertThat(e.get("to").isIntegralNumber()).isTrue();
        assertThat(e.get("mispredicted").isBoolean()).isTrue();
        assertThat(e.get("cycles").asInt()).isPositive();
        assertThat(v.get("tos").asInt()).isBetween(0, 31);
    }

    /** guest.msrs sets LBR MSRs with KVM_SET_MSRS before the first run: the value reaches the guest under every policy. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lazy", "upstream", "eager", "passthrough-unsaved"})
    void lbrSelectSetByTheVmmSurvivesUnderEveryPolicy(String policy, @TempDir Path dir) throws Exception {
        Path out = dir.resolve("lbr.json");
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(),
                "-o", "kvm.guest-lbr=on", "-o", "kvm.lbr-policy=" + policy, "-o", "guest.msrs.MSR_LBR_SELECT=0x3c4",
                "-o", "guest.msrs.IA32_DEBUGCTL=1", "--dump-lbr", out.toString());
        assertThat(r.status()).as(r.err()).isEqualTo(0);
        JsonNode v = new ObjectMapper().readTree(out.toFile()).get("vcpus").get(0);
        assertThat(v.get("lbr_select").asLong()).isEqualTo(0x3c4);
        assertThat(v.get("entries")).as("0x3c4 is call-stack mode: at exit every call fib made has returned").isEmpty();
    }

    @Test
    void dumpWithoutRecordingHasNoEntries(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("lbr.json");
        CliRunner.run("run", CliRunner.home().resolve("configs/fib.conf").toString(), "--dump-lbr", out.toString());
        JsonNode v = new ObjectMapper().readTree(out.toFile()).get("vcpus").get(0);
        assertThat(v.get("entries")).isEmpty();
        assertThat(v.get("debugctl").asLong()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pmu_lbr", "pmu_lbr-haswell"})
    void pmuLbrGuestPassesOnModelsWithLbr(String config) {
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/" + config + ".conf").toString());
        assertThat(r.out()).contains("PASS: the LBR has entries").contains("PASS: LBR_TOS is non-zero")
                .contains("PASS: every FROM and TO entry is non-zero").doesNotContain("FAIL");
        assertThat(r.status()).isZero();
    }

    @Test
    void pmuLbrGuestReportsNoLbrOnAModelWithout() {
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/pmu_lbr-nolbr.conf").toString());
        assertThat(r.out()).contains("LBR not supported");
        assertThat(r.status()).isZero();
    }

    @Test
    void pmuLbrGuestWithoutTheCapabilitySkips() {
        CliRunner.Result r = CliRunner.run("run", CliRunner.home().resolve("configs/pmu_lbr.conf").toString(), "-o", "kvm.guest-lbr=off");
        assertThat(r.out()).contains("SKIP");
    }
}
