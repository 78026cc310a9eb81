package dev.lbrvmm.monitor.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One line of the QMP shell, in qmp-shell syntax ({@code query-lbr cpu-index=0}, dotted keys for
 * nested objects, values parsed as JSON when they are JSON and taken as strings otherwise) or as a
 * raw JSON message ({@code {"execute": ...}}). Values may be double-quoted to hold spaces
 * ({@code command-line="info lbr"}). {@code wait EVENT [SECONDS]} waits for an event,
 * {@code sleep SECONDS} lets the guest run.
 */
public sealed interface ShellCommand {
    record Execute(String command, ObjectNode arguments) implements ShellCommand {}

    record Raw(String json) implements ShellCommand {}

    record Wait(String event, double seconds) implements ShellCommand {}

    record Sleep(double seconds) implements ShellCommand {}

    /** Blank lines and comments. */
    record Nothing() implements ShellCommand {}

    /** {@code help}: the shell's syntax and the monitor's commands. */
    record Help() implements ShellCommand {}

    ObjectMapper JSON = new ObjectMapper();

    /** The command a line holds, or null when it does not parse (run() reports why). */
    static ShellCommand parseOrNull(String line) {
        try {
            return parse(line);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static ShellCommand parse(String line) {
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
            return new Nothing();
        }
        if (t.startsWith("{")) {
            try {
                JSON.readTree(t);
            } catch (Exception e) {
                throw new IllegalArgumentException("not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            return new Raw(t);
        }
        String[] words = words(t);
        if (words[0].equals("help") && words.length == 1) {
            return new Help();
        }
        if (words[0].equals("sleep")) {
            if (words.length != 2) {
                throw new IllegalArgumentException("usage: sleep SECONDS");
            }
            try {
                return new Sleep(Double.parseDouble(words[1]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("sleep: '" + words[1] + "' is not a number of seconds");
            }
        }
        if (words[0].equals("wait")) {
            if (words.length < 2 || words.length > 3) {
                throw new IllegalArgumentException("usage: wait EVENT [SECONDS]");
            }
            double s = 10;
            if (words.length == 3) {
                try {
                    s = Double.parseDouble(words[2]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("wait: '" + words[2] + "' is not a number of seconds");
                }
            }
            return new Wait(words[1], s);
        }
        ObjectNode args = JSON.createObjectNode();
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("'" + words[i] + "' is not key=value");
            }
            String key = words[i].substring(0, eq);
            String value = words[i].substring(eq + 1);
            ObjectNode target = args;
            String[] path = key.split("\\.");
            for (int k = 0; k < path.length - 1; k++) {
                JsonNode next = target.get(path[k]);
                target = next instanceof ObjectNode o ? o : target.putObject(path[k]);
            }
            target.set(path[path.length - 1], value(value));
        }
        return new Execute(words[0], args);
    }

    /** Splits at blanks outside double quotes; a quoted value keeps its spaces (quotes dropped). */
    private static String[] words(String line) {
        java.util.List<String> out = new java.util.ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
                any = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (any) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    any = false;
                }
            } else {
                cur.append(c);
                any = true;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated \" in: " + line);
        }
        if (any) {
            out.add(cur.toString());
        }
        return out.toArray(new String[0]);
    }

    private static JsonNode value(String v) {
        try {
            JsonNode n = JSON.readTree(v);
            if (n != null && !n.isMissingNode()) {
                return n;
            }
        } catch (Exception e) {
            // not JSON: a plain string
        }
        return JSON.getNodeFactory().textNode(v);
    }
}
