package dev.lbrvmm.monitor.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.completer.StringsCompleter;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** The QMP shell: scripts of {@link ShellCommand} lines, and an interactive mode on JLine. */
public final class QmpShell {
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final QmpClient client;
    private final PrintStream out;
    /** In script mode events are printed as they arrive, so wait only waits. */
    private boolean printingEvents;

    public QmpShell(QmpClient client, PrintStream out) {
        this.client = client;
        this.out = out;
    }

    /** Runs one line; returns null on success or the error text. */
    String run(String line) throws IOException, InterruptedException {
        ShellCommand c;
        try {
            c = ShellCommand.parse(line);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        JsonNode reply;
        if (c instanceof ShellCommand.Nothing) {
            return null;
        } else if (c instanceof ShellCommand.Help) {
            out.print(help());
            return null;
        } else if (c instanceof ShellCommand.Sleep sl) {
            Thread.sleep((long) (sl.seconds() * 1000));
            return null;
        } else if (c instanceof ShellCommand.Wait w) {
            JsonNode e = client.waitForEvent(w.event(), Duration.ofMillis((long) (w.seconds() * 1000)));
            if (e == null) {
                return "no " + w.event() + " event within " + w.seconds() + " s";
            }
            if (!printingEvents) {
                out.println(e);
            }
            return null;
        } else if (c instanceof ShellCommand.Raw r) {
            reply = client.send(r.json()).join();
        } else {
            ShellCommand.Execute x = (ShellCommand.Execute) c;
            reply = client.execute(x.command(), x.arguments()).join();
        }
        if (reply.has("error")) {
            return reply.get("error").path("class").asText() + ": " + reply.get("error").path("desc").asText();
        }
        JsonNode ret = reply.get("return");
        out.println(ret != null && ret.isTextual() ? ret.asText() : PRETTY.writeValueAsString(ret));
        return null;
    }

    /**
     * Runs a script; stops at the first error and returns 1 (0 when every line succeeded). Each
     * command is echoed after the prompt before its reply, and events are printed as they arrive
     * (before the reply of the command that caused them), so the output reads like a session.
     */
    public int script(Path file, List<String> lines, PrintStream err) throws IOException, InterruptedException {
        printingEvents = true;
        client.onEvent(out::println);
        for (int i = 0; i < lines.size(); i++) {
            if (!(ShellCommand.parseOrNull(lines.get(i)) instanceof ShellCommand.Nothing)) {
                out.println("(QMP) " + lines.get(i).strip());
            }
            String e = run(lines.get(i));
            if (e != null) {
                err.println(file + ":" + (i + 1) + ": " + e);
                return 1;
            }
        }
        return 0;
    }

    /** Interactive: a banner, history, completion of command names, events printed as they arrive; ends at EOF. */
    public int interactive(Path history, String where) throws IOException, InterruptedException {
        List<String> names = new ArrayList<>(List.of("wait", "sleep", "help"));
        names.addAll(commandNames());
        out.println(banner(where));
        printingEvents = true;
        client.onEvent(e -> out.println(e));
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            LineReader reader = LineReaderBuilder.builder().terminal(terminal).completer(new StringsCompleter(names))
                    .variable(LineReader.HISTORY_FILE, history).build();
            for (;;) {
                String line;
                try {
                    line = reader.readLine("(QMP) ");
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                }
                String err = run(line);
                if (err != null) {
                    out.println("error: " + err);
                }
            }
        }
    }

    /** "Connected to lbrvmm 0.1.0 (QMP of QEMU 7.2.0) at ADDRESS", as qmp-shell greets. */
    String banner(String where) {
        JsonNode v = client.greeting().path("QMP").path("version");
        JsonNode q = v.path("qemu");
        return "Welcome to the QMP shell. Connected to " + v.path("package").asText("?") + " (QMP of QEMU " + q.path("major").asInt()
                + "." + q.path("minor").asInt() + "." + q.path("micro").asInt() + ") at " + where + ".\n"
                + "'help' lists the commands; Ctrl-D quits the shell (the 'quit' command quits the VMM).";
    }

    String help() throws IOException {
        return """
                Lines: COMMAND [key=value ...] in qmp-shell syntax (values are JSON when they parse as JSON, else strings;
                       "double quotes" hold spaces; dotted keys build nested objects), a raw {"execute": ...} message,
                       wait EVENT [SECONDS], sleep SECONDS, help, or # comments.
                Commands of this monitor:
                """ + String.join(" ", commandNames()) + "\n";
    }

    private List<String> commandNames() throws IOException {
        List<String> names = new ArrayList<>();
        try {
            for (JsonNode c : client.call("query-commands", null)) {
                names.add(c.get("name").asText());
            }
        } catch (QmpClientException e) {
            out.println("(query-commands failed: " + e.getMessage() + ")");
        }
        return names;
    }
}
