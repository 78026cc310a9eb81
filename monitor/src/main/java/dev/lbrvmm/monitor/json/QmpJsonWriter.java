package dev.lbrvmm.monitor.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes JSON the way QEMU's QMP output looks: {@code ": "} and {@code ", "} separators, ASCII
 * only with upper-case {@code \\uXXXX} escapes, doubles as C's {@code %.17g} (so {@code 0.1} is
 * {@code 0.10000000000000001} and infinity is the token {@code inf}, as QEMU prints it).
 */
public final class QmpJsonWriter {
    private QmpJsonWriter() {}

    public static String write(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        write(n, sb);
        return sb.toString();
    }

    public static void write(JsonNode n, StringBuilder sb) {
        switch (n.getNodeType()) {
            case OBJECT -> {
                sb.append('{');
                Iterator<Map.Entry<String, JsonNode>> it = n.fields();
                boolean first = true;
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!first) {
                        sb.append(", ");
                    }
                    first = false;
                    string(e.getKey(), sb);
                    sb.append(": ");
                    write(e.getValue(), sb);
                }
                sb.append('}');
            }
            case ARRAY -> {
                sb.append('[');
                for (int i = 0; i < n.size(); i++) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    write(n.get(i), sb);
                }
                sb.append(']');
            }
            case STRING -> string(n.textValue(), sb);
            case NUMBER -> {
                if (n.isIntegralNumber()) {
                    sb.append(n.bigIntegerValue().toString());
                } else {
                    sb.append(formatDouble(n.doubleValue()));
                }
            }
            case BOOLEAN -> sb.append(n.booleanValue() ? "true" : "false");
            default -> sb.append("null");
        }
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        sb.append(String.format("\\u%04X", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** C's printf("%.17g"). */
    public static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0" : "0";
        }
        BigDecimal bd = new BigDecimal(d).round(new MathContext(17));
        int exp = bd.precision() - bd.scale() - 1;
        if (exp < -4 || exp >= 17) {
            BigDecimal mant = bd.movePointLeft(exp);
            String m = stripZeros(mant.toPlainString());
            return m + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        return stripZeros(bd.toPlainString());
    }

    private static String stripZeros(String s) {
        if (s.indexOf('.') < 0) {
            return s;
        }
        int end = s.length();
        while (s.charAt(end - 1) == '0') {
            end--;
        }
        if (s.charAt(end - 1) == '.') {
            end--;
        }
        return s.substring(0, end);
    }

    /** Raw token bytes as QEMU shows them in "stray" messages: printable ASCII as is, others as \\u escapes. */
    static String escapeForMessage(String raw) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            sb.append(c >= 0x80 ? '\uFFFD' : c);
        }
        return sb.toString();
    }
}
