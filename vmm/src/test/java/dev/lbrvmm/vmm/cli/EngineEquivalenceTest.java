package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example guest and config, run through the CLI under the interpreter and under the
 * translating engine, gives identical results: exit status, console output and messages, the
 * --dump-lbr stacks, the --stats accounting (all but the engine's own section) and sample streams.
 * The translating engine runs with a threshold of 2 and translates on the vCPU thread, so nearly
 * all guest code runs translated and the switch happens at the same point every time; a second
 * form keeps the default background translation, and a third adds a prime time slice so budget
 * cuts fall inside translated regions.
 */
class EngineEquivalenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> JIT = List.of("-o", "guest.cpu.engine=jit", "-o", "guest.cpu.jit.threshold=2",
            "-o", "guest.cpu.jit.background=off");
    private static final List<String> INTERPRETER = List.of("-o", "guest.cpu.engine=interpreter");

    @TempDir
    Path dir;

    static Stream<Arguments> guests() {
        String lbr = "kvm.guest-lbr=on";
        String debugctl = "guest.msrs.IA32_DEBUGCTL=1";
        String mb = "examples/bin/";
        List<Arguments> out = new ArrayList<>();
        for (String c : List.of("loop", "fib", "sort", "dispatch", "callchain", "primes", "x87", "serial-idt", "pmu_lbr",
                "pmu_lbr-haswell", "pmu_lbr-nolbr", "reclaim", "lbr_sample", "lbr_sample-haswell", "lbr_sample-callstack")) {
            out.add(Arguments.of(c, new String[] {"configs/" + c + ".conf"}));
        }
        out.add(Arguments.of("fib with LBR", new String[] {"configs/fib.conf", "-o", lbr, "-o", debugctl}));
        out.add(Arguments.of("dispatch, call-stack LBR", new String[] {"configs/dispatch.conf", "-o", lbr, "-o", debugctl,
                "-o", "guest.msrs.MSR_LBR_SELECT=0x3c4", "-o", "guest.msrs.IA32_DEBUGCTL=1"}));
        for (String policy : List.of("lazy", "upstream", "eager", "passthrough-unsaved")) {
            out.add(Arguments.of("contention, " + policy, new String[] {"configs/contention.conf", "-o", "kvm.lbr-policy=" + policy}));
        }
        out.add(Arguments.of("sort on 2 vCPUs", new String[] {"configs/sort.conf", "-o", "guest.vcpus=2", "-o", "guest.ap-start=entry",
                "-o", lbr, "-o", debugctl}));
        out.add(Arguments.of("loop under paging", new String[] {"configs/loop.conf", "-o", "guest.paging=identity", "-o", lbr, "-o", debugctl}));
        out.add(Arguments.of("mb_longmode", new String[] {"--kernel", mb + "mb_longmode.elf", "--append", "a b"}));
        out.add(Arguments.of("mb_pagefault", new String[] {"--kernel", mb + "mb_pagefault.elf"}));
        out.add(Arguments.of("mb_highmap with LBR", new String[] {"--kernel", mb + "mb_highmap.elf", "-o", lbr, "-o", debugctl}));
        out.add(Arguments.of("mb_remap with LBR", new String[] {"--kernel", mb + "mb_remap.elf", "-o", lbr, "-o", debugctl}));
        // the unmodified kvm-unit-tests kernels, when they are beside the checkout (KvmUnitTestsTest)
        Path kut = CliRunner.home().resolveSibling("shared").resolve("kut");
        for (String k : List.of("dummy", "tsc", "msr")) {
            if (Files.isRegularFile(kut.resolve(k + ".flat"))) {
                out.add(Arguments.of("kvm-unit-tests " + k, new String[] {"--kernel", kut.resolve(k + ".flat").toString()}));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("guests")
    void identicalUnderBothEngines(String name, String[] guest) throws Exception {
        Run interpreted = run("interpreter", guest, INTERPRETER);
        Run translated = run("jit", guest, JIT);
        interpreted.assertSameAs(translated, name);
        if (translated.instructions() > 100_000) { // a guest that long has hot code: most of it must have run translated
            assertThat(translated.jitShare()).as("%s: share of instructions run translated", name).isGreaterThan(0.5);
        }
        Run background = run("background", guest, List.of("-o", "guest.cpu.engine=jit"));
        interpreted.assertSameAs(background, name + " (background translation)");
        Run sliced = run("sliced-jit", guest, concat(JIT, List.of("-o", "host.time-slice=997")));
        run("sliced-interpreter", guest, concat(INTERPRETER, List.of("-o", "host.time-slice=997"))).assertSameAs(sliced, name + " (time slice 997)");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** What a run shows: status, output, messages (with its own file names made neutral), LBR dump, stats, serial file. */
    private record Run(int status, String out, String err, JsonNode dump, JsonNode stats, long instructions, double jitShare, byte[] serial) {
        void assertSameAs(Run other, String what) {
            assertThat(other.status).as(what + ": exit status").isEqualTo(status);
            assertThat(other.out).as(what + ": output").isEqualTo(out);
            assertThat(other.err).as(what + ": messages").isEqualTo(err);
            assertThat(other.dump).as(what + ": --dump-lbr").isEqualTo(dump);
            assertThat(other.stats).as(what + ": --stats").isEqualTo(stats);
            assertThat(other.serial).as(what + ": serial output file").isEqualTo(serial);
        }
    }

    private Run run(String tag, String[] guest, List<String> engine) throws Exception {
        Path dump = dir.resolve(tag + ".json");
        Path serial = dir.resolve(tag + ".serial");
        List<String> args = new ArrayList<>(List.of("run"));
        for (String g : guest) {
            args.add(g.startsWith("configs/") || g.startsWith("examples/") ? CliRunner.home().resolve(g).toString() : g);
        }
        boolean serialToFile = Arrays.asList(guest).stream().anyMatch(g -> g.contains("lbr_sample"));
        if (serialToFile) {
            args.addAll(List.of("-o", "guest.serial.output=\"" + serial + "\""));
        }
        args.addAll(engine);
        args.addAll(List.of("--dump-lbr", dump.toString(), "--stats", "--json"));
        CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
        String err = r.err().replace(dump.toString(), "DUMP").replace(serial.toString(), "SERIAL");
        List<String> lines = new ArrayList<>(err.lines().toList());
        String statsLine = lines.stream().filter(l -> l.startsWith("{\"policy\"")).findFirst()
                .orElseThrow(() -> new AssertionError(tag + ": no --stats --json line in:\n" + r.err()));
        lines.remove(statsLine);
        ObjectNode stats = (ObjectNode) JSON.readTree(statsLine);
        double share = 0;
        if (stats.has("jit")) {
            long run = 0;
            for (JsonNode v : stats.get("jit")) {
                run += v.get("instructions-run").asLong();
            }
            share = (double) run / Math.max(1, stats.get("vm").get("instructions").asLong());
            stats.remove("jit"); // the engine's own counts: the only part allowed to differ
        }
        return new Run(r.status(), r.out(), String.join("\n", lines), Files.exists(dump) ? JSON.readTree(dump.toFile()) : null, stats,
                stats.get("vm").get("instructions").asLong(), share, serialToFile && Files.exists(serial) ? Files.readAllBytes(serial) : null);
    }
}
