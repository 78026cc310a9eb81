package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --trace}: a Trace Event Format file that shows who had the LBR when; LBRVMM_LOG=debug: the same as log lines. */
@org.junit.jupiter.api.extension.ExtendWith(dev.lbrvmm.vmm.CapturedLog.class)
class TraceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String home(String p) {
        return CliRunner.home().resolve(p).toString();
    }

    @Test
    void contentionIsTracedAsSlicesExitsMsrTrapsAndLbrDecisions() throws Exception {
        Path trace = dir.resolve("t.json");
        CliRunner.Result r = CliRunner.run("run", home("configs/contention.conf"), "--kernel", home("examples/bin/pmu_lbr.elf"),
                "-o", "kvm.lbr-policy=upstream", "--trace", trace.toString());
        assertThat(r.err()).contains("trace written to " + trace);
        JsonNode events = JSON.readTree(trace.toFile()).get("traceEvents");
        Set<String> kinds = new HashSet<>();
        Map<String, Double> lastEnd = new HashMap<>();
        for (JsonNode e : events) {
            String ph = e.get("ph").asText();
            assertThat(ph).isIn("M", "X", "i");
            if (ph.equals("M")) {
                continue;
            }
            kinds.add(e.get("cat").asText() + ":" + e.get("name").asText());
            if (ph.equals("X")) { // a CPU runs one task at a time: its slices do not overlap
                String cpu = e.get("pid").asText() + "/" + e.get("tid").asText();
                double start = e.get("ts").asDouble();
                assertThat(start).as(e.toString()).isGreaterThanOrEqualTo(lastEnd.getOrDefault(cpu, 0.0) - 1e-9);
                lastEnd.put(cpu, start + e.get("dur").asDouble());
            }
        }
        assertThat(kinds).contains("sched:vcpu-0", "sched:perf-record-b", "exit:preemption", "exit:msr-read", "msr:rdmsr",
                "lbr:perf event created", "lbr:pass-through on", "lbr:save", "lbr:restore");
        assertThat(events.toString()).contains("\"msr\":\"IA32_PERF_CAPABILITIES (0x345)\"").contains("\"name\":\"vcpu0\"");
    }

    @Test
    void aFilterKeepsOnlyTheKindsAskedForAndBadKindsAreNamed() throws Exception {
        Path trace = dir.resolve("lbr.json");
        CliRunner.run("run", home("configs/contention.conf"), "--kernel", home("examples/bin/pmu_lbr.elf"), "--trace", trace.toString(),
                "--trace-events", "lbr,pmi");
        Set<String> cats = new HashSet<>();
        JSON.readTree(trace.toFile()).get("traceEvents").forEach(e -> {
            if (e.has("cat")) {
                cats.add(e.get("cat").asText());
            }
        });
        assertThat(cats).containsOnly("lbr");
        CliRunner.Result bad = CliRunner.run("run", home("configs/fib.conf"), "--trace", dir.resolve("x.json").toString(),
                "--trace-events", "lbr,cache");
        assertThat(bad.status()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(bad.err()).contains("--trace-events: 'cache' is not one of sched, exit, msr, lbr, pmi, qmp");
    }

    @Test
    void aTraceThatCannotBeWrittenIsOneLine() {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isWritable(Path.of("/dev/full")), "needs /dev/full");
        CliRunner.Result r = CliRunner.run("run", home("configs/fib.conf"), "--trace", "/dev/full");
        assertThat(r.status()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("--trace: cannot write /dev/full").doesNotContain("Exception");
    }

    @Test
    void debugLoggingWritesTheDecisionsAsText() {
        ch.qos.logback.classic.Logger trace = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.lbrvmm.trace");
        ch.qos.logback.classic.Level before = trace.getLevel();
        trace.setLevel(ch.qos.logback.classic.Level.DEBUG); // what LBRVMM_LOG=debug sets for dev.lbrvmm
        try {
            CliRunner.run("run", home("configs/contention.conf"), "--kernel", home("examples/bin/pmu_lbr.elf"), "-o",
                    "kvm.lbr-policy=upstream");
        } finally {
            trace.setLevel(before);
        }
        assertThat(dev.lbrvmm.vmm.CapturedLog.messages()).contains("DEBUG: vcpu0 @0: lbr: perf event created {\"pinned\":true}")
                .anyMatch(m -> m.matches("DEBUG: vcpu0 @[0-9]+: msr: rdmsr \\{\"msr\":\"IA32_PERF_CAPABILITIES \\(0x345\\)\",.*"))
                .noneMatch(m -> m.contains(": sched: ") || m.contains(": exit: ")); // one per slice: those are for LBRVMM_LOG=trace
    }
}
