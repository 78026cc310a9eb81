package dev.lbrvmm.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A command, declared once: its name, argument schema, whether it may run out of band, and the
 * handler. The dispatcher checks arguments against the schema before the handler runs.
 *
 * @param returns short description of the return type, for query-qmp-schema
 */
public record QmpCommand(String name, List<Param> params, boolean allowOob, String returns, Handler handler) {

    /** Runs the command with checked arguments; returns the reply value ({} for none). */
    @FunctionalInterface
    public interface Handler {
        JsonNode handle(ObjectNode arguments, QmpSession session) throws QmpError;
    }

    public static QmpCommand of(String name, List<Param> params, String returns, Handler handler) {
        return new QmpCommand(name, params, false, returns, handler);
    }
}
