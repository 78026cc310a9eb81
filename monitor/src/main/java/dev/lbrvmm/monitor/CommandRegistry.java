package dev.lbrvmm.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The commands a monitor offers, each declared once. {@code qmp_capabilities}, {@code
 * query-commands} and {@code query-qmp-schema} are built in and derived from the table.
 */
public final class CommandRegistry {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final Map<String, QmpCommand> commands = new LinkedHashMap<>();

    public CommandRegistry() {
        register(QmpCommand.of("qmp_capabilities", java.util.List.of(Param.enumList("enable", true, java.util.List.of("oob"))), "{}",
                (args, session) -> {
                    throw new QmpError(QmpError.ErrorClass.CommandNotFound, "Capabilities negotiation is already complete, command ignored");
                }));
        register(QmpCommand.of("query-commands", java.util.List.of(), "[CommandInfo]", (args, session) -> {
            ArrayNode a = NODES.arrayNode();
            for (QmpCommand c : commands.values()) {
                a.addObject().put("name", c.name());
            }
            return a;
        }));
        register(QmpCommand.of("query-qmp-schema", java.util.List.of(), "[SchemaInfo]", (args, session) -> schema()));
        // Out of band (like QEMU's x-oob-test): answers at once even while in-band requests wait.
        register(new QmpCommand("x-oob-ping", java.util.List.of(), true, "{}", (args, session) -> NODES.objectNode()));
    }

    /** Adds a command; a name may be declared once only. */
    public CommandRegistry register(QmpCommand c) {
        if (commands.putIfAbsent(c.name(), c) != null) {
            throw new IllegalArgumentException("QMP command " + c.name() + " is declared twice");
        }
        return this;
    }

    public QmpCommand get(String name) {
        return commands.get(name);
    }

    public Collection<QmpCommand> all() {
        return Collections.unmodifiableCollection(commands.values());
    }

    /**
     * A reduced query-qmp-schema: one entry per command with its arguments spelled out (QEMU masks
     * argument type names to numbers; the members are given inline here, which clients that only
     * look for command names and allow-oob also accept).
     */
    private JsonNode schema() {
        ArrayNode a = NODES.arrayNode();
        for (QmpCommand c : commands.values()) {
            ObjectNode o = a.addObject();
            o.put("name", c.name());
            o.put("meta-type", "command");
            ObjectNode args = o.putObject("arg-type");
            ArrayNode members = args.putArray("members");
            for (Param p : c.params()) {
                ObjectNode m = members.addObject();
                m.put("name", p.name());
                m.put("type", p.type() == Param.Type.ENUM || p.type() == Param.Type.ENUM_LIST ? String.join("|", p.values()) : p.type().json);
                if (p.optional()) {
                    m.put("default", (String) null);
                }
            }
            o.put("ret-type", c.returns());
            if (c.allowOob()) {
                o.put("allow-oob", true);
            }
        }
        return a;
    }
}
