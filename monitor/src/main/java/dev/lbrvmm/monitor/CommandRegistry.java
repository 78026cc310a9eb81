package dev.lbrvmm.monitor;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The commands a monitor offers, each declared once. {@code qmp_capabilities}, {@code
 * query-commands} and {@code query-qmp-schema} are built in and derived from the table.
 */
public final class CommandRegistry {
    private final Map<String, QmpCommand> commands = new LinkedHashMap<>();

    /** query-commands' element. */
    public record CommandInfo(String name) {}

    /** query-qmp-schema's element (reduced: one per command, arguments inline). */
    public record SchemaInfo(String name, String metaType, ArgType argType, String retType, Boolean allowOob) {}

    /** A command's arguments in query-qmp-schema. */
    public record ArgType(List<SchemaMember> members) {}

    /** One argument: {@code "default": null} marks an optional one, as QEMU's schema does. */
    public record SchemaMember(String name, String type, @JsonProperty("default") JsonNode defaultValue) {}

    public CommandRegistry() {
        register(QmpCommand.of("qmp_capabilities", List.of(Param.enumList("enable", true, List.of("oob"))), ReplyType.NONE,
                (args, session) -> {
                    throw new QmpError(QmpError.ErrorClass.CommandNotFound, "Capabilities negotiation is already complete, command ignored");
                }));
        register(QmpCommand.of("query-commands", List.of(), ReplyType.listOf(CommandInfo.class),
                (args, session) -> commands.values().stream().map(c -> new CommandInfo(c.name())).toList()));
        register(QmpCommand.of("query-qmp-schema", List.of(), ReplyType.listOf(SchemaInfo.class), (args, session) -> schema()));
        // Out of band (like QEMU's x-oob-test): answers at once even while in-band requests wait.
        register(new QmpCommand("x-oob-ping", List.of(), true, ReplyType.NONE, (args, session) -> null));
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
    private List<SchemaInfo> schema() {
        List<SchemaInfo> out = new ArrayList<>();
        for (QmpCommand c : commands.values()) {
            List<SchemaMember> members = new ArrayList<>();
            for (Param p : c.params()) {
                String type = p.type() == Param.Type.ENUM || p.type() == Param.Type.ENUM_LIST ? String.join("|", p.values()) : p.type().json;
                members.add(new SchemaMember(p.name(), type, p.optional() ? NullNode.getInstance() : null));
            }
            out.add(new SchemaInfo(c.name(), "command", new ArgType(members), c.returns().schemaName(), c.allowOob() ? true : null));
        }
        return out;
    }
}
