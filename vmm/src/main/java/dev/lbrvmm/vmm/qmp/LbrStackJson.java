package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * LBR stacks as JSON, the one shape used by {@code --dump-lbr} and the monitor: per vCPU its
 * index, model, format, depth, tos, debugctl, lbr_select and entries newest first with from, to
 * (JSON integers) and, where the format records them, mispredicted and cycles.
 */
public final class LbrStackJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LbrStackJson() {}

    /** One vCPU's stack (the query-lbr reply adds KVM's state to it). */
    public static QmpReplies.LbrStack vcpu(Vcpu v) {
        return stack(v.index(), v.model().name(), v.model().lbrFormat(), v.model().lbrDepth(), v.guestDebugctl(),
                v.lbrSnapshot().orElse(null));
    }

    /** A stack in the dump's shape; {@code s} null for a vCPU without an LBR (no entries). */
    static QmpReplies.LbrStack stack(int index, String model, int format, int depth, long debugctl, LbrSnapshot s) {
        List<QmpReplies.LbrEntry> entries = s == null ? List.of()
                : s.entries().stream().map(e -> new QmpReplies.LbrEntry(e.from(), e.to(), e.mispredicted(), e.cycles())).toList();
        return new QmpReplies.LbrStack(index, model, format, depth, s == null ? 0 : s.tos(), debugctl, s == null ? 0 : s.lbrSelect(), entries);
    }

    /**
     * The --dump-lbr file: {@code {"program": {...}, "vcpus": [stack, ...]}}; "program" (the guest
     * program's identity) is absent in files of older lbrvmm versions and for guests without a
     * program file.
     */
    public record Dump(@JsonInclude(JsonInclude.Include.NON_NULL) ProgramInfo program, List<QmpReplies.LbrStack> vcpus) {}

    /** A program's identity as dumps and record data files hold it. */
    public record ProgramInfo(String path, long size, String sha256,
            @JsonProperty("build-id") @JsonInclude(JsonInclude.Include.NON_NULL) String buildId) {
        static ProgramInfo of(ProgramIdentity p) {
            return new ProgramInfo(p.path(), p.size(), p.sha256(), p.buildId().orElse(null));
        }
    }

    public static Dump dump(List<Vcpu> vcpus) {
        return new Dump(null, vcpus.stream().map(LbrStackJson::vcpu).toList());
    }

    public static void write(Path file, List<Vcpu> vcpus, Optional<ProgramIdentity> program) throws IOException {
        JSON.writeValue(file.toFile(), new Dump(program.map(ProgramInfo::of).orElse(null), dump(vcpus).vcpus()));
    }

    /** The "program" member of a dump or data file, if it has one. */
    public static Optional<ProgramIdentity> readProgram(Path file) throws IOException, DumpFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            return Optional.empty(); // read() reports the syntax error with its place
        }
        return program(file, root);
    }

    static Optional<ProgramIdentity> program(Path file, JsonNode root) throws DumpFormatException {
        JsonNode p = root == null ? null : root.get("program");
        if (p == null || !p.isObject()) {
            return Optional.empty();
        }
        JsonNode path = p.get("path");
        JsonNode sha = p.get("sha256");
        if (path == null || !path.isTextual() || sha == null || !sha.isTextual()) {
            throw new DumpFormatException(file + ": /program: needs \"path\" and \"sha256\" strings");
        }
        return Optional.of(new ProgramIdentity(path.asText(), integer(file, p, "/program", "size", 0, Long.MAX_VALUE), sha.asText(),
                p.has("build-id") ? Optional.of(p.get("build-id").asText()) : Optional.empty()));
    }

    /** A dump file that does not have the documented shape; the message names the file and the place. */
    public static final class DumpFormatException extends Exception {
        private static final long serialVersionUID = 1L;

        public DumpFormatException(String message) {
            super(message);
        }
    }

    /**
     * Reads a file {@link #write} wrote: one snapshot per vCPU, in file order. Syntax errors name
     * line and column, shape errors the JSON path of the member (/vcpus/0/entries/3/from).
     */
    public static List<LbrSnapshot> read(Path file) throws IOException, DumpFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new DumpFormatException(String.format("%s:%d:%d: not valid JSON: %s", file, l == null ? 0 : l.getLineNr(),
                    l == null ? 0 : l.getColumnNr(), e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new DumpFormatException(file + ": expected a JSON object with \"vcpus\" (an lbrvmm --dump-lbr file)");
        }
        JsonNode vcpus = root.get("vcpus");
        if (vcpus == null || !vcpus.isArray()) {
            throw new DumpFormatException(file + ": /vcpus: missing or not an array (an lbrvmm --dump-lbr file has one)");
        }
        List<LbrSnapshot> out = new java.util.ArrayList<>();
        for (int i = 0; i < vcpus.size(); i++) {
            out.add(stack(file, vcpus.get(i), "/vcpus/" + i));
        }
        return out;
    }

    /** One stack in the --dump-lbr shape at JSON path {@code at}; the message of a bad one names the file and the path. */
    static LbrSnapshot stack(Path file, JsonNode v, String at) throws DumpFormatException {
        int format = (int) integer(file, v, at, "format", 0, 7);
        int depth = (int) integer(file, v, at, "depth", 1, 64);
        JsonNode entries = v.get("entries");
        if (entries == null || !entries.isArray()) {
            throw new DumpFormatException(file + ": " + at + "/entries: missing or not an array");
        }
        if (entries.size() > depth) {
            throw new DumpFormatException(file + ": " + at + "/entries: " + entries.size() + " entries, more than depth " + depth);
        }
        List<LbrSnapshot.Entry> list = new java.util.ArrayList<>();
        for (int k = 0; k < entries.size(); k++) {
            String e = at + "/entries/" + k;
            JsonNode n = entries.get(k);
            long from = integer(file, n, e, "from", Long.MIN_VALUE, Long.MAX_VALUE);
            long to = integer(file, n, e, "to", Long.MIN_VALUE, Long.MAX_VALUE);
            JsonNode m = n.get("mispredicted");
            if (m != null && !m.isBoolean()) {
                throw new DumpFormatException(file + ": " + e + "/mispredicted: expected true or false, got " + m);
            }
            Integer cycles = n.has("cycles") ? (int) integer(file, n, e, "cycles", 0, 0xFFFF) : null;
            list.add(new LbrSnapshot.Entry(k, from, to, m == null ? null : m.booleanValue(), cycles));
        }
        String model = v.path("model").asText("?");
        return new LbrSnapshot(model, format, depth, (int) v.path("tos").asLong(0), v.path("debugctl").asLong(0),
                v.path("lbr_select").asLong(0), List.copyOf(list));
    }

    static long integer(Path file, JsonNode o, String at, String name, long min, long max) throws DumpFormatException {
        JsonNode n = o == null ? null : o.get(name);
        if (n == null) {
            throw new DumpFormatException(file + ": " + at + "/" + name + ": missing");
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
            throw new DumpFormatException(file + ": " + at + "/" + name + ": expected an integer"
                    + (min == Long.MIN_VALUE ? "" : " in " + min + ".." + max) + ", got " + n);
        }
        return n.asLong();
    }
}
