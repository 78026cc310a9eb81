package dev.lbrvmm.vmm.machine;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rules for files lbrvmm writes (reports, LBR dumps, guest output): an output never replaces one of
 * the inputs of the same command, and a whole-file output appears complete or not at all (written
 * to a temporary file in the same folder, then renamed over the target).
 */
public final class OutputFile {
    private OutputFile() {
    }

    /** Writes the content to a temporary file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path temporary) throws IOException;
    }

    /**
     * The input {@code out} would overwrite, as "what (path)", or empty. Compared by file identity
     * (hard links and different spellings of one path are the same file); an output that does not
     * exist yet clashes with nothing.
     */
    public static Optional<String> clash(Path out, Map<String, Path> inputs) {
        if (out == null || !Files.exists(out)) {
            return Optional.empty();
        }
        for (Map.Entry<String, Path> in : inputs.entrySet()) {
            Path p = in.getValue();
            try {
                if (p != null && Files.exists(p) && Files.isSameFile(out, p)) {
                    return Optional.of(in.getKey() + " (" + p + ")");
                }
            } catch (IOException e) {
                // an input we cannot stat is reported when it is read, not here
            }
        }
        return Optional.empty();
    }

    /** Writes {@code out} through a temporary sibling renamed on success; on failure {@code out} is untouched. */
    public static void replace(Path out, Content content) throws IOException {
        if (Files.exists(out) && !Files.isRegularFile(out)) {
            content.writeTo(out); // a device or pipe (/dev/stdout): nothing to rename over
            return;
        }
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + out.getFileName() + ".", ".tmp");
        try {
            content.writeTo(tmp);
            keepPermissions(out, tmp);
            try {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Temporary files are 0600; the result gets the old file's mode, or rw-r--r-- for a new one. */
    private static void keepPermissions(Path out, Path tmp) throws IOException {
        if (!Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
            return;
        }
        Set<PosixFilePermission> mode = Files.exists(out) ? Files.getPosixFilePermissions(out)
                : PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(tmp, mode);
    }
}
