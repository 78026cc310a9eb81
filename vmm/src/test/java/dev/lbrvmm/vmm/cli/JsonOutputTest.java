package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The machine-readable outputs: --stats (table or --json), report --json, bench --json. */
class JsonOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void statsAreATableWithAColumnPerVcpuOrOneLineOfJson() throws Exception {
        CliRunner.Result table = CliRunner.run("run", CliRunner.config("fib"), "-o", "guest.vcpus=2", "-o", "guest.ap-start=entry", "--stats");
        assertThat(table.err()).containsPattern("\\n +vcpu0 +vcpu1 +vm\\n").containsPattern("\\n  instructions +[0-9,]+ +[0-9,]+ +[0-9,]+\\n")
                .containsPattern("\\n    preemption +[0-9,]+");
        assertThat(table.err().lines().filter(l -> l.startsWith("  ")).mapToInt(String::length).distinct().count())
                .as("aligned: every row as wide as the header").isEqualTo(1);
        CliRunner.Result json = CliRunner.run("run", CliRunner.config("fib"), "-o", "kvm.guest-lbr=on", "--stats", "--json");
        JsonNode j = JSON.readTree(json.err().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        assertThat(j.get("policy").asText()).isEqualTo("lazy");
        assertThat(j.get("guest-lbr").asBoolean()).isTrue();
        assertThat(j.get("costs").get("vm-exit").asLong()).isEqualTo(1200);
        assertThat(j.get("vcpus").get(0).get("instructions").asLong()).isPositive();
        assertThat(j.get("vm").get("vm-exits-by-reason").get("syscall").asLong()).isEqualTo(4);
    }

    @Test
    void reportJsonHoldsTheSummaryAndEveryBranchWithHexAddresses() throws Exception {
        Path data = dir.resolve("fib.data");
        assertThat(CliRunner.run("record", CliRunner.config("fib"), "--output", data.toString()).status()).isZero();
        CliRunner.Result r = CliRunner.run("report", data.toString(), "--json", "--top", "1");
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("summary").get(0).asText()).contains("lbrvmm record data");
        JsonNode branches = j.get("branches");
        assertThat(branches.size()).as("--top is for the text table; JSON has every branch").isGreaterThan(1);
        long sum = 0;
        for (JsonNode b : branches) {
            sum += b.get("count").asLong();
            assertThat(b.get("from").asText()).matches("0x[0-9a-f]+");
        }
        assertThat(sum).isEqualTo(j.get("records").asLong());
        assertThat(branches.get(0).get("from-symbol").asText()).startsWith("fib");
        assertThat(branches.get(0).get("share").asDouble()).isBetween(0.0, 1.0);
        assertThat(CliRunner.run("report", data.toString(), "--json", "--script").status()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void benchJsonForMipsAndComparisons() throws Exception {
        CliRunner.Result mips = CliRunner.run("bench", CliRunner.config("fib"), "--repeat", "1", "--warmup", "0", "--json");
        assertThat(mips.status()).as(mips.err()).isZero();
        JsonNode m = JSON.readTree(mips.out());
        assertThat(m.get("mode").asText()).isEqualTo("mips");
        assertThat(m.get("workloads").get(0).get("name").asText()).isEqualTo("fib");
        assertThat(m.get("workloads").get(0).get("status").asInt()).isZero();
        assertThat(m.get("median-mips").asDouble()).isPositive();
        CliRunner.Result cmp = CliRunner.run("bench", CliRunner.config("fib"), "--repeat", "1", "--warmup", "0", "--compare-lbr", "--json");
        JsonNode c = JSON.readTree(cmp.out());
        assertThat(c.get("mode").asText()).isEqualTo("compare-lbr");
        JsonNode w = c.get("workloads").get(0);
        assertThat(w.get("ratio").asDouble()).isCloseTo(w.get("mips-on").asDouble() / w.get("mips-off").asDouble(),
                org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void everyBenchCommandHasJson() throws Exception {
        JsonNode policy = JSON.readTree(CliRunner.run("bench", "lbr-policy", "--time-slice", "100000", "--json").out());
        assertThat(policy.get("time-slice").asLong()).isEqualTo(100000);
        assertThat(policy.get("rows").size()).isGreaterThanOrEqualTo(4);
        assertThat(policy.get("rows").get(0).get("policy").asText()).isNotEmpty();
        JsonNode sampling = JSON.readTree(CliRunner.run("bench", "sampling", "--rounds", "1", "--forks", "1", "--repeat", "1",
                "--warmup", "0", "--json").out());
        assertThat(sampling.get("modes").size()).isEqualTo(3);
        assertThat(sampling.get("ratio-vs-lbr").asDouble()).isPositive();
    }
}
