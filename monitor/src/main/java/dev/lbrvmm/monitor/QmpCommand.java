package dev.lbrvmm.monitor;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A command, declared once: its name, argument schema, declared reply, whether it may run out of
 * band, and the handler. The dispatcher checks arguments against the schema before the handler
 * runs, and the handler's value against the declared reply after.
 */
public record QmpCommand(String name, List<Param> params, boolean allowOob, ReplyType returns, Handler handler) {

    /** Runs the command with checked arguments; returns the reply value (null for none). */
    @FunctionalInterface
    public interface Handler {
        Object handle(ObjectNode arguments, QmpSession session) throws QmpError;
    }

    public static QmpCommand of(String name, List<Param> params, ReplyType returns, Handler handler) {
        return new QmpCommand(name, params, false, returns, handler);
    }
}
