package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lbrvmm.vmm.cpu.Msr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void defaultsWithoutAFile() throws Exception {
        GuestConfig c = GuestConfigLoader.load(null, List.of());
        assertThat(c.guest().vcpus()).isEqualTo(1);
        assertThat(c.guest().cpuModel().name()).isEqualTo("skylake-client");
        assertThat(c.guest().memory()).isEqualTo(64L << 20);
        assertThat(c.kvm().guestLbr()).isFalse();
        assertThat(c.program().path()).isNull();
        assertThat(c.program().format()).isEqualTo(ProgramSection.Format.ELF);
        assertThat(c.host().timeSlice()).isEqualTo(100_000);
    }

    @Test
    void fileValuesPathsAndHexAddresses() throws Exception {
        Path f = write("g.conf", """
                guest {
                  name = demo
                  memory = 16M
                  vcpus = 2
                  cpu.model = haswell
                  program { path = "bin/p.bin", format = flat, load-address = "0x200000", entry = 2097168 }
                  msrs { IA32_DEBUGCTL = 1, "0x1c8" = "0x10" }
                }
                kvm.guest-lbr = on
                host.cpu-model = haswell
                """);
        GuestConfig c = GuestConfigLoader.load(f, List.of());
        assertThat(c.guest().name()).isEqualTo("demo");
        assertThat(c.guest().memory()).isEqualTo(16L << 20);
        assertThat(c.program().path()).isEqualTo(dir.resolve("bin/p.bin"));
        assertThat(c.program().loadAddress()).isEqualTo(0x200000);
        assertThat(c.program().entry()).hasValue(0x200010);
        assertThat(c.guest().msrs()).extracting(GuestSection.MsrSetting::index).containsExactlyInAnyOrder(Msr.IA32_DEBUGCTL, Msr.MSR_LBR_SELECT);
        assertThat(c.guest().msrs()).filteredOn(m -> m.index() == Msr.MSR_LBR_SELECT).first().extracting(GuestSection.MsrSetting::value).isEqualTo(0x10L);
        assertThat(c.kvm().guestLbr()).isTrue();
    }

    @Test
    void commandLineOverridesWinIncludingQuotedMsrKeys() throws Exception {
        Path f = write("g.conf", "guest.vcpus = 2\n");
        GuestConfig c = GuestConfigLoader.load(f, List.of("guest.vcpus=3", "guest.msrs.\"0x1d9\"=1", "guest.program.path=/tmp/x//y.elf"));
        assertThat(c.guest().vcpus()).isEqualTo(3);
        assertThat(c.guest().msrs()).singleElement().satisfies(m -> {
            assertThat(m.index()).isEqualTo(0x1D9);
            assertThat(m.value()).isEqualTo(1);
        });
        assertThat(c.program().path().toString()).isEqualTo("/tmp/x//y.elf".replace("//", "/"));
    }

    @Test
    void includesAndEnvironmentSubstitution() throws Exception {
        Files.createDirectories(dir.resolve("base"));
        write("base/common.conf", "guest { memory = 8M, program.path = \"prog.elf\" }\n");
        Path f = write("g.conf", "include \"base/common.conf\"\nguest.name = ${?PATH}\nguest.vcpus = ${?LBRVMM_TEST_UNSET_VAR}\n");
        GuestConfig c = GuestConfigLoader.load(f, List.of());
        assertThat(c.guest().memory()).isEqualTo(8L << 20);
        assertThat(c.guest().name()).isEqualTo(System.getenv("PATH"));
        assertThat(c.guest().vcpus()).isEqualTo(1);
        assertThat(c.program().path()).as("relative to the file that set it").isEqualTo(dir.resolve("base/prog.elf"));
    }

    @Test
    void programArgumentsAndItsOwnStdout() throws Exception {
        Path f = write("args.conf", "guest.program {\n  args = [\"100\", x]\n  stdout = \"out.txt\"\n}\n");
        GuestConfig c = GuestConfigLoader.load(f, List.of());
        assertThat(c.program().args()).containsExactly("100", "x");
        assertThat(c.program().stdout().kind()).isEqualTo(OutputTarget.Kind.FILE);
        assertThat(c.program().stdout().file()).isEqualTo(f.getParent().resolve("out.txt"));
        assertThat(GuestConfigLoader.load(null, List.of()).program().stdout()).as("default: with the serial output").isNull();
        assertThat(GuestConfigLoader.load(null, List.of()).program().args()).isEmpty();
        Path bad = write("badargs.conf", "guest.program.args = 5\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(bad, List.of())).hasMessageContaining("badargs.conf: 1")
                .hasMessageContaining("guest.program.args");
        Path empty = write("empty.conf", "\nguest.program.stdout = \"\"\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(empty, List.of())).hasMessageContaining("empty.conf:2")
                .hasMessageContaining("guest.program.stdout").hasMessageContaining("must be stdout, stderr, none or a file path");
    }

    @Test
    void unknownKeyNamesFileLineAndSuggests() throws Exception {
        Path f = write("typo.conf", "guest {\n  cpu.modle = haswell\n}\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of()))
                .isInstanceOf(GuestConfigException.class)
                .hasMessageContaining(f + ":2")
                .hasMessageContaining("unknown key 'guest.cpu.modle'")
                .hasMessageContaining("did you mean 'guest.cpu.model'");
    }

    @Test
    void unknownTopLevelKeyAndUnknownOverride() throws Exception {
        Path f = write("top.conf", "gust.vcpus = 2\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).hasMessageContaining("unknown key 'gust'")
                .hasMessageContaining("did you mean 'guest'");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("guest.vcpu=2")))
                .hasMessageContaining("-o guest.vcpu=2").hasMessageContaining("unknown key 'guest.vcpu'");
    }

    @Test
    void wrongTypesNameFileLineAndKey() throws Exception {
        Path f = write("types.conf", "guest {\n  name = x\n  vcpus = many\n}\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of()))
                .hasMessageContaining("types.conf: 3").hasMessageContaining("guest.vcpus");
        Path g = write("bool.conf", "kvm.guest-lbr = maybe\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(g, List.of())).hasMessageContaining("bool.conf: 1").hasMessageContaining("kvm.guest-lbr");
        Path h = write("addr.conf", "guest.program.load-address = \"0xZZ\"\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(h, List.of())).hasMessageContaining("addr.conf:1")
                .hasMessageContaining("guest.program.load-address").hasMessageContaining("0xZZ");
    }

    @Test
    void outOfRangeValues() throws Exception {
        Path f = write("range.conf", "guest.vcpus = 0\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).hasMessageContaining("range.conf:1")
                .hasMessageContaining("guest.vcpus must be between 1 and 64, got 0");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("guest.memory=5G"))).hasMessageContaining("guest.memory")
                .hasMessageContaining("between 1 MiB and 4 GiB");
        assertThat(GuestConfigLoader.load(null, List.of("guest.memory=3G")).guest().memory()).as("up to 4 GiB since Multiboot kernels").isEqualTo(3L << 30);
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("host.time-slice=0"))).hasMessageContaining("host.time-slice");
    }

    @Test
    void unknownCpuModelListsValidOnes() {
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("guest.cpu.model=pentium")))
                .hasMessageContaining("'pentium'").hasMessageContaining("skylake-client").hasMessageContaining("haswell");
    }

    @Test
    void badMsrKeysAndValues() throws Exception {
        Path f = write("msr.conf", "guest.msrs { IA32_DEBUGCTRL = 1 }\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).hasMessageContaining("msr.conf:1")
                .hasMessageContaining("IA32_DEBUGCTRL").hasMessageContaining("IA32_DEBUGCTL");
        Path g = write("msrv.conf", "guest.msrs { IA32_DEBUGCTL = yes }\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(g, List.of())).hasMessageContaining("guest.msrs.IA32_DEBUGCTL");
    }

    @Test
    void syntaxErrorsAndMissingFiles() throws Exception {
        Path f = write("syntax.conf", "guest {\n  vcpus = 2\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).isInstanceOf(GuestConfigException.class)
                .hasMessageContaining("syntax.conf");
        assertThatThrownBy(() -> GuestConfigLoader.load(dir.resolve("nope.conf"), List.of()))
                .hasMessageContaining("nope.conf").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("novalue")))
                .hasMessageContaining("expected key=value");
    }

    @Test
    void policyAndHostLbrUseAreTypes() throws Exception {
        Path f = write("host.conf", """
                kvm.lbr-policy = upstream
                host {
                  cpus = 2
                  tasks = [{ name = perf, cpus = [1], lbr = task-pinned }, { name = idle }]
                  lbr-events = [{ cpu = 1, pinned = false }]
                }
                """);
        GuestConfig c = GuestConfigLoader.load(f, List.of());
        assertThat(c.kvm().lbrPolicy()).isInstanceOf(dev.lbrvmm.vmm.kvm.GuestLbrPolicy.Upstream.class);
        assertThat(c.host().tasks()).extracting(HostSection.HostTask::lbr)
                .containsExactly(HostSection.LbrUse.TASK_PINNED, HostSection.LbrUse.NONE);
        assertThat(c.host().tasks().get(0).affinity()).isEqualTo(0b10);
        assertThat(c.host().lbrEvents()).containsExactly(new HostSection.CpuLbrEvent(1, false));
        Path bad = write("badlbr.conf", "host.tasks = [\n  { lbr = always }\n]\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(bad, List.of())).hasMessageContaining("badlbr.conf:2")
                .hasMessageContaining("host.tasks[0].lbr must be none, task-pinned or task-flexible, got 'always'");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("kvm.lbr-policy=greedy")))
                .hasMessageContaining("-o kvm.lbr-policy=greedy").hasMessageContaining("kvm.lbr-policy must be one of lazy, upstream");
    }

    @Test
    void fractionalNumbersAreRefusedWhereIntegersAreMeant() throws Exception {
        Path f = write("frac.conf", "guest.vcpus = 2.9\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).hasMessageContaining("frac.conf:1")
                .hasMessageContaining("guest.vcpus must be an integer, got 2.9");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("guest.memory=1.5M"))).hasMessageContaining("guest.memory")
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("host.time-slice=100.5"))).hasMessageContaining("host.time-slice")
                .hasMessageContaining("must be an integer");
        assertThat(GuestConfigLoader.load(null, List.of("guest.memory=1536M")).guest().memory()).isEqualTo(1536L << 20);
    }
    @Test
    void nestingThousandsDeepIsAnErrorWithALineNotAStackOverflow() throws Exception {
        Path f = write("deep.conf", "guest.vcpus = 1\n# { [ in a comment\ns = \"{{{[[\"\na = " + "{ b = ".repeat(20_000) + "1"
                + " }".repeat(20_000) + "\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).isInstanceOf(GuestConfigException.class)
                .hasMessageContaining("deep.conf:4: objects and lists nest more than 200 levels deep");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("x=" + "[".repeat(20_000) + "]".repeat(20_000))))
                .isInstanceOf(GuestConfigException.class).hasMessageContaining("-o x:1: objects and lists nest");
        Path viaInclude = write("outer.conf", "include required(\"deep.conf\")\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(viaInclude, List.of())).isInstanceOf(GuestConfigException.class)
                .hasMessageContaining("outer.conf or a file it includes: objects and lists nest too deeply");
        Path fine = write("fine.conf", "guest.msrs { " + "\"0x1d9\" = 1, ".repeat(3) + "}\nhost.tasks = [{name = a, cpus = [0]}]\n");
        assertThat(GuestConfigLoader.load(fine, List.of()).host().tasks()).hasSize(1);
    }

    /** Found by the config fuzzer: a NUL in a path was an InvalidPathException out of the loader. */
    @Test
    void pathsThatNoFileSystemAcceptsNameTheKeyAndLine() throws Exception {
        Path f = write("nul.conf", "guest.vcpus = 1\nguest.program.path = \"prog\\u0000.elf\"\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).isInstanceOf(GuestConfigException.class)
                .hasMessageContaining("nul.conf:2: guest.program.path is not a usable path: Nul character not allowed");
        assertThatThrownBy(() -> GuestConfigLoader.load(null, List.of("guest.serial.output=\"a\\u0000\""))).isInstanceOf(GuestConfigException.class)
                .hasMessageContaining("guest.serial.output is not a usable path");
        Path inc = write("nulinc.conf", "include required(\"x\\u0000.conf\")\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(inc, List.of())).isInstanceOf(GuestConfigException.class)
                .hasMessageContaining("nulinc.conf");
    }

    @Test
    void aMissingRequiredIncludeNamesTheLineThatIncludesIt() throws Exception {
        Path f = write("inc.conf", "guest.vcpus = 1\ninclude required(\"nothere.conf\")\n");
        assertThatThrownBy(() -> GuestConfigLoader.load(f, List.of())).isInstanceOf(GuestConfigException.class)
                .hasMessage(f + ":2: included file 'nothere.conf' was not found (relative names are looked up in " + dir + ")");
    }

    /** A config named without a folder (lbrvmm run guest.conf in its own folder) finds the files it includes. */
    @Test
    void aBareFileNameFindsItsIncludes() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        Path outer = cwd.resolve("bare-include-test.conf");
        Path inner = cwd.resolve("bare-include-test-inner.conf");
        try {
            Files.writeString(outer, "include required(\"bare-include-test-inner.conf\")\n");
            Files.writeString(inner, "guest.vcpus = 3\n");
            assertThat(GuestConfigLoader.load(Path.of("bare-include-test.conf"), List.of()).guest().vcpus()).isEqualTo(3);
        } finally {
            Files.deleteIfExists(outer);
            Files.deleteIfExists(inner);
        }
    }
}
