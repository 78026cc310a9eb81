package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgramIdentityTest {
    @TempDir
    Path dir;

    @Test
    void theBuildIdIsTheOneReadelfShows() throws Exception {
        Path src = dir.resolve("p.S");
        Files.writeString(src, ".globl _start\n_start: hlt\n");
        Path obj = dir.resolve("p.o");
        Path elf = dir.resolve("p.elf");
        assumeTrue(run("as", "--64", "-o", obj.toString(), src.toString()) != null, "GNU as is not installed");
        assumeTrue(run("ld", "--build-id=sha1", "-o", elf.toString(), obj.toString()) != null, "GNU ld is not installed");
        String notes = run("readelf", "-n", elf.toString());
        assumeTrue(notes != null, "readelf is not installed");
        Matcher m = Pattern.compile("Build ID: ([0-9a-f]+)").matcher(notes);
        assertThat(m.find()).isTrue();
        ProgramIdentity id = ProgramIdentity.of(elf);
        assertThat(id.buildId()).contains(m.group(1));
        assertThat(id.describe()).contains("build id " + m.group(1));
        assertThat(id.size()).isEqualTo(Files.size(elf));
    }

    @Test
    void programsWithoutANoteOrDamagedOnesHaveNoBuildIdAndTheSameBytesAreTheSameProgram() throws Exception {
        Path fib = Path.of("..", "examples", "bin", "fib.elf");
        ProgramIdentity a = ProgramIdentity.of(fib);
        assertThat(a.buildId()).isEmpty();
        Path copy = dir.resolve("copy.elf");
        Files.copy(fib, copy);
        assertThat(ProgramIdentity.of(copy).sameProgram(a)).isTrue();
        byte[] bytes = Files.readAllBytes(fib);
        bytes[bytes.length - 1] ^= 1;
        Files.write(copy, bytes);
        assertThat(ProgramIdentity.of(copy).sameProgram(a)).isFalse();
        byte[] damaged = Arrays.copyOf(bytes, 64);
        damaged[0x28] = (byte) 0xff; // section headers far beyond the file
        assertThat(ProgramIdentity.buildId(damaged)).isEqualTo(Optional.empty());
        assertThat(ProgramIdentity.buildId("not an ELF".getBytes(StandardCharsets.US_ASCII))).isEmpty();
    }

    /** The tool's output, or null when it is missing or failed. */
    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? out : null;
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
