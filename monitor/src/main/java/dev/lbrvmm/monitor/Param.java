package dev.lbrvmm.monitor;

import java.util.List;

/**
 * One argument of a QMP command, as QAPI declares it: name, JSON type, optional or not, and for
 * enums and enum lists the accepted values.
 */
public record Param(String name, Type type, boolean optional, List<String> values) {
    public enum Type {
        STR("string"), INT("integer"), UINT64("integer"), NUMBER("number"), BOOL("boolean"), OBJECT("object"),
        ARRAY("array"), ANY("any"), ENUM("string"), ENUM_LIST("array");

        /** The word QEMU uses in "Invalid parameter type for 'x', expected: T". */
        public final String json;

        Type(String json) {
            this.json = json;
        }
    }

    public static Param required(String name, Type type) {
        return new Param(name, type, false, List.of());
    }

    public static Param optional(String name, Type type) {
        return new Param(name, type, true, List.of());
    }

    public static Param enumOf(String name, boolean optional, List<String> values) {
        return new Param(name, Type.ENUM, optional, values);
    }

    public static Param enumList(String name, boolean optional, List<String> values) {
        return new Param(name, Type.ENUM_LIST, optional, values);
    }
}
