package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.machine.LoadedProgram;
import dev.lbrvmm.vmm.machine.ProgramIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The file {@code lbrvmm record} writes (default {@code lbrvmm.data}), perf.data's role: one JSON
 * object that says where its branch stacks came from and holds them.
 *
 * <pre>
 * {"lbrvmm-data": 1,
 *  "command": ["record", "configs/fib.conf"],             the command line
 *  "config": {"file": ..., "text": ..., "overrides": [...]},  the config file's text and every -o
 *  "program": {"path", "size", "sha256", "build-id"},      the guest program's identity
 *  "cpu": {"model", "lbr-format", "lbr-depth"},
 *  "period": 100000,                                       instructions between samples (0: none)
 *  "symbols": [{"name", "address", "size"}],               the program's symbol table
 *  "samples": [{"seq", "instructions", "ip", + one --dump-lbr stack}],
 *  "vcpus": [...]}                                         the stacks at exit, as --dump-lbr writes them
 * </pre>
 *
 * Because "vcpus" has the dump's shape, a data file is also a valid {@code --dump-lbr} file.
 */
public final class RecordFile {
    public static final String MAGIC = "lbrvmm-data";
    public static final String DEFAULT_NAME = "lbrvmm.data";
    private static final int VERSION = 1;
    /** Compact: a data file holds thousands of stacks. */
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How the recording was made and from what. {@code program} is empty for a guest without a program file. */
    public record Header(List<String> command, String configFile, String configText, List<String> overrides,
            Optional<ProgramIdentity> program, String model, int lbrFormat, int lbrDepth, long period,
            List<LoadedProgram.Symbol> symbols) {}

    /** One sample: a vCPU's stack after {@code instructions} guest instructions, at {@code ip}. */
    public record Stack(long seq, int vcpu, long instructions, long ip, LbrSnapshot lbr) {}

    public record Contents(Header header, List<Stack> samples, List<LbrSnapshot> atExit) {}

    private RecordFile() {}

    /** True when the file starts like a data file (its first member is the magic). */
    public static boolean isRecordFile(Path file) throws IOException {
        byte[] head = new byte[64];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        return new String(head, 0, n, StandardCharsets.UTF_8).replaceAll("\\s", "").startsWith("{\"" + MAGIC + "\"");
    }

    public static void write(Path file, Header h, List<Stack> samples, List<QmpReplies.LbrStack> atExit) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put(MAGIC, VERSION);
        h.command().forEach(root.putArray("command")::add);
        ObjectNode config = root.putObject("config");
        config.put("file", h.configFile());
        config.put("text", h.configText());
        h.overrides().forEach(config.putArray("overrides")::add);
        h.program().ifPresent(p -> root.set("program", JSON.valueToTree(LbrStackJson.ProgramInfo.of(p))));
        ObjectNode cpu = root.putObject("cpu");
        cpu.put("model", h.model());
        cpu.put("lbr-format", h.lbrFormat());
        cpu.put("lbr-depth", h.lbrDepth());
        root.put("period", h.period());
        ArrayNode symbols = root.putArray("symbols");
        for (LoadedProgram.Symbol s : h.symbols()) {
            symbols.addObject().put("name", s.name()).put("address", s.address()).put("size", s.size());
        }
        ArrayNode list = root.putArray("samples");
        for (Stack s : samples) {
            ObjectNode o = list.addObject();
            o.put("seq", s.seq());
            o.put("instructions", s.instructions());
            o.put("ip", s.ip());
            LbrSnapshot l = s.lbr();
            o.setAll((ObjectNode) JSON.valueToTree(LbrStackJson.stack(s.vcpu(), l.model(), l.format(), l.depth(), l.debugctl(), l)));
        }
        root.set("vcpus", JSON.valueToTree(atExit));
        JSON.writeValue(file.toFile(), root);
    }

    /** Reads a data file; errors name the file and the JSON path (or line and column) of what is wrong. */
    public static Contents read(Path file) throws IOException, LbrStackJson.DumpFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw syntax(file, e);
        }
        Header header = header(file, root);
        List<Stack> samples = new ArrayList<>();
        JsonNode list = root.path("samples");
        for (int i = 0; i < list.size(); i++) {
            String at = "/samples/" + i;
            JsonNode s = list.get(i);
            samples.add(new Stack(LbrStackJson.integer(file, s, at, "seq", 0, Long.MAX_VALUE),
                    (int) LbrStackJson.integer(file, s, at, "index", 0, 1023),
                    LbrStackJson.integer(file, s, at, "instructions", 0, Long.MAX_VALUE),
                    LbrStackJson.integer(file, s, at, "ip", Long.MIN_VALUE, Long.MAX_VALUE), LbrStackJson.stack(file, s, at)));
        }
        List<LbrSnapshot> atExit = new ArrayList<>();
        JsonNode vcpus = root.path("vcpus");
        for (int i = 0; i < vcpus.size(); i++) {
            atExit.add(LbrStackJson.stack(file, vcpus.get(i), "/vcpus/" + i));
        }
        return new Contents(header, samples, atExit);
    }

    /**
     * Only how the file was recorded (program, symbols, geometry), without building its stacks:
     * the samples and the stacks at exit are skipped token by token. A syntax error inside them
     * is found by {@link #read}.
     */
    public static Header readHeader(Path file) throws IOException, LbrStackJson.DumpFormatException {
        ObjectNode head = JSON.createObjectNode();
        try (JsonParser p = JSON.getFactory().createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new LbrStackJson.DumpFormatException(file + ": expected a JSON object (an lbrvmm record data file)");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (name.equals("samples") || name.equals("vcpus")) {
                    p.skipChildren();
                } else {
                    head.set(name, JSON.readTree(p));
                }
            }
        } catch (JsonProcessingException e) {
            throw syntax(file, e);
        }
        return header(file, head);
    }

    private static LbrStackJson.DumpFormatException syntax(Path file, JsonProcessingException e) {
        JsonLocation l = e.getLocation();
        return new LbrStackJson.DumpFormatException(String.format("%s:%d:%d: not valid JSON: %s", file,
                l == null ? 0 : l.getLineNr(), l == null ? 0 : l.getColumnNr(), e.getOriginalMessage()));
    }

    private static Header header(Path file, JsonNode root) throws LbrStackJson.DumpFormatException {
        long version = LbrStackJson.integer(file, root, "", MAGIC, 1, Integer.MAX_VALUE);
        if (version != VERSION) {
            throw new LbrStackJson.DumpFormatException(file + ": /" + MAGIC + ": version " + version
                    + " is newer than this lbrvmm reads (" + VERSION + ")");
        }
        Optional<ProgramIdentity> program = LbrStackJson.program(file, root);
        JsonNode cpu = root.path("cpu");
        JsonNode config = root.path("config");
        List<String> overrides = new ArrayList<>();
        config.path("overrides").forEach(o -> overrides.add(o.asText()));
        List<String> command = new ArrayList<>();
        root.path("command").forEach(c -> command.add(c.asText()));
        List<LoadedProgram.Symbol> symbols = new ArrayList<>();
        JsonNode syms = root.path("symbols");
        for (int i = 0; i < syms.size(); i++) {
            String at = "/symbols/" + i;
            symbols.add(new LoadedProgram.Symbol(text(file, syms.get(i), at, "name"),
                    LbrStackJson.integer(file, syms.get(i), at, "address", Long.MIN_VALUE, Long.MAX_VALUE),
                    LbrStackJson.integer(file, syms.get(i), at, "size", 0, Long.MAX_VALUE)));
        }
        return new Header(command, config.path("file").asText(""), config.path("text").asText(""), overrides, program,
                cpu.path("model").asText("?"), cpu.path("lbr-format").asInt(0), cpu.path("lbr-depth").asInt(0),
                root.path("period").asLong(0), symbols);
    }

    private static String text(Path file, JsonNode o, String at, String name) throws LbrStackJson.DumpFormatException {
        JsonNode n = o.get(name);
        if (n == null || !n.isTextual()) {
            throw new LbrStackJson.DumpFormatException(file + ": " + at + "/" + name + ": missing or not a string");
        }
        return n.asText();
    }
}
