package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The identity of the program behind a sample stream, kept beside it as {@code STREAM.program.json}:
 * {@code {"stream": {"size", "sha256"}, "program": {...}}}, "program" as dumps and data files hold
 * it. The stream itself is the guest's COM1 bytes and stays exactly what the guest wrote (so two
 * runs of a guest can be compared byte for byte); the stream's size and hash in the side file tell
 * a stale side file (left by an earlier run, the stream since rewritten) from a current one.
 */
public final class SampleStreamIdentity {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SampleStreamIdentity() {}

    /** Where the identity of {@code stream} is kept. */
    public static Path sideFile(Path stream) {
        return stream.resolveSibling(stream.getFileName() + ".program.json");
    }

    /** Writes the side file of {@code stream} and returns its path. */
    public static Path write(Path stream, ProgramIdentity program) throws IOException {
        Map<String, Object> streamInfo = new LinkedHashMap<>();
        streamInfo.put("size", Files.size(stream));
        streamInfo.put("sha256", sha256(stream));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("stream", streamInfo);
        root.put("program", LbrStackJson.ProgramInfo.of(program));
        Path side = sideFile(stream);
        JSON.writeValue(side.toFile(), root);
        return side;
    }

    /** What the side file of a stream says. */
    public sealed interface Found {}

    /** The side file describes this stream: the program it came from. */
    public record Current(ProgramIdentity program) implements Found {}

    /** The side file describes another stream (the stream was rewritten since): why, for a note. */
    public record Stale(String why) implements Found {}

    /** The side file of {@code stream}, if there is one. */
    public static Optional<Found> read(Path stream) throws IOException, LbrStackJson.DumpFormatException {
        Path side = sideFile(stream);
        if (!Files.isRegularFile(side)) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(side.toFile());
        } catch (JsonProcessingException e) {
            throw new LbrStackJson.DumpFormatException(side + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode s = root == null ? null : root.get("stream");
        if (s == null || !s.isObject() || !s.path("sha256").isTextual()) {
            throw new LbrStackJson.DumpFormatException(side + ": /stream: needs \"size\" and \"sha256\"");
        }
        long size = LbrStackJson.integer(side, s, "/stream", "size", 0, Long.MAX_VALUE);
        Optional<ProgramIdentity> program = LbrStackJson.program(side, root);
        if (program.isEmpty()) {
            throw new LbrStackJson.DumpFormatException(side + ": /program: missing");
        }
        if (size != Files.size(stream) || !s.get("sha256").asText().equals(sha256(stream))) {
            return Optional.of(new Stale(side + " describes an earlier " + stream.getFileName() + " (" + size + " bytes)"));
        }
        return Optional.of(new Current(program.get()));
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
