package dev.lbrvmm.monitor;

import java.util.List;

/**
 * The declared reply of a command, from which query-qmp-schema's {@code ret-type} is derived: a
 * Java type (a record serialised by {@link ReplyJson}), a list of one, a string, any JSON, or
 * nothing ({@code {}}). The dispatcher checks every reply against it, so the declaration cannot
 * drift from what the handler builds.
 *
 * @param schemaName the name query-qmp-schema shows
 * @param javaType   the class every reply (or list element) must be an instance of
 * @param list       the reply is a JSON array of {@code javaType}
 */
public record ReplyType(String schemaName, Class<?> javaType, boolean list) {
    /** No reply value: {@code "return": {}}. */
    public static final ReplyType NONE = new ReplyType("{}", Void.class, false);
    /** A JSON string. */
    public static final ReplyType STR = new ReplyType("str", String.class, false);
    /** Any JSON value (QAPI's {@code any}, as qom-get returns). */
    public static final ReplyType ANY = new ReplyType("any", Object.class, false);

    /** A record (or other Jackson-serialisable type), named after its class as QAPI names structs. */
    public static ReplyType of(Class<?> type) {
        return new ReplyType(type.getSimpleName(), type, false);
    }

    /** A JSON array of a record type. */
    public static ReplyType listOf(Class<?> element) {
        return new ReplyType("[" + element.getSimpleName() + "]", element, true);
    }

    /**
     * Checks a handler's value against this declaration.
     *
     * @throws IllegalStateException naming the command when the value does not match (a bug, not bad input)
     */
    void check(String command, Object value) {
        if (this == NONE || javaType == Void.class) {
            if (value != null) {
                throw mismatch(command, value);
            }
            return;
        }
        if (value == null) {
            throw mismatch(command, null);
        }
        if (list) {
            if (!(value instanceof List<?> l)) {
                throw mismatch(command, value);
            }
            for (Object e : l) {
                if (!javaType.isInstance(e)) {
                    throw mismatch(command, e);
                }
            }
        } else if (!javaType.isInstance(value)) {
            throw mismatch(command, value);
        }
    }

    private IllegalStateException mismatch(String command, Object value) {
        return new IllegalStateException("command " + command + " declares reply " + schemaName + " but returned "
                + (value == null ? "nothing" : value.getClass().getName()));
    }
}
