package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputFileTest {
    @TempDir
    Path dir;

    @Test
    void clashIsByFileIdentity() throws Exception {
        Path in = Files.writeString(dir.resolve("in"), "x");
        Path other = Files.writeString(dir.resolve("other"), "y");
        assertThat(OutputFile.clash(dir.resolve("./in"), Map.of("the input", in))).contains("the input (" + in + ")");
        assertThat(OutputFile.clash(Files.createLink(dir.resolve("hard"), in), Map.of("the input", in))).isPresent();
        assertThat(OutputFile.clash(other, Map.of("the input", in))).isEmpty();
        assertThat(OutputFile.clash(dir.resolve("new"), Map.of("the input", in))).as("a new file clashes with nothing").isEmpty();
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporary() throws Exception {
        Path out = Files.writeString(dir.resolve("out"), "old");
        assertThatThrownBy(() -> OutputFile.replace(out, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(Files.readString(out)).isEqualTo("old");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(out);
        }
    }

    @Test
    void replaceKeepsTheOldModeAndGivesNewFilesAReadableOne() throws Exception {
        Path old = Files.writeString(dir.resolve("old"), "a");
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-rw----"));
        OutputFile.replace(old, tmp -> Files.writeString(tmp, "b"));
        assertThat(Files.readString(old)).isEqualTo("b");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(old))).isEqualTo("rw-rw----");
        Path fresh = dir.resolve("fresh");
        OutputFile.replace(fresh, tmp -> Files.writeString(tmp, "c"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rw-r--r--");
    }
}
