package dev.lbrvmm.monitor.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.List;

/**
 * Parses one message's tokens into a Jackson tree with QEMU's error texts (qobject/json-parser.c):
 * "expecting value", "invalid keyword 'x'", "missing : in object pair", "expected separator in
 * dict", "key is not a string in object", "duplicate key", "invalid escape sequence in string",
 * "invalid UTF-8 sequence in string", "\\uD800 is not a valid Unicode character". Integers that
 * fit int64 or uint64 stay exact; anything larger, and every fraction, is a double.
 *
 * <p>One deviation: a number beyond a double's range (1e400) is an error here. QEMU's
 * parse_literal() takes strtod()'s infinity and its writer then prints {@code inf}, which is not
 * JSON, so a strict client cannot read the reply that echoes it (an {@code id} of 1e400).
 */
public final class QmpJsonParser {
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(false);
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** A syntax error; the message is QEMU's text after "JSON parse error, ". */
    public static final class ParseError extends Exception {
        private static final long serialVersionUID = 1L;

        ParseError(String message) {
            super(message, null, false, false);
        }
    }

    private final List<JsonToken> tokens;
    private int pos;

    private QmpJsonParser(List<JsonToken> tokens) {
        this.tokens = tokens;
    }

    public static JsonNode parse(List<JsonToken> tokens) throws ParseError {
        QmpJsonParser p = new QmpJsonParser(tokens);
        JsonNode v = p.value();
        if (p.pos != tokens.size()) {
            throw new ParseError("expecting value"); // cannot happen for streamer-delimited messages
        }
        return v;
    }

    private JsonToken peek() {
        return pos < tokens.size() ? tokens.get(pos) : null;
    }

    private JsonNode value() throws ParseError {
        JsonToken t = peek();
        if (t == null) {
            throw new ParseError("expecting value");
        }
        switch (t.type()) {
            case LCURLY:
                return object();
            case LSQUARE:
                return array();
            case STRING:
                pos++;
                return NODES.textNode(string(t.text()));
            case INTEGER:
                pos++;
                return integer(t.text());
            case FLOAT:
                pos++;
                return NODES.numberNode(finite(Double.parseDouble(t.text()), t.text()));
            case KEYWORD:
                pos++;
                return switch (t.text()) {
                    case "true" -> NODES.booleanNode(true);
                    case "false" -> NODES.booleanNode(false);
                    case "null" -> NODES.nullNode();
                    default -> throw new ParseError("invalid keyword '" + t.text() + "'");
                };
            default:
                throw new ParseError("expecting value");
        }
    }

    private static double finite(double d, String text) throws ParseError {
        if (Double.isInfinite(d)) {
            throw new ParseError("number '" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
                    + "' is out of range");
        }
        return d;
    }

    private static JsonNode integer(String text) throws ParseError {
        BigInteger v = new BigInteger(text);
        if (v.bitLength() < 64) {
            return NODES.numberNode(v.longValue());
        }
        if (v.signum() > 0 && v.compareTo(UINT64_MAX) <= 0) {
            return NODES.numberNode(v);
        }
        return NODES.numberNode(finite(v.doubleValue(), text));
    }

    private ObjectNode object() throws ParseError {
        pos++; // {
        ObjectNode o = NODES.objectNode();
        JsonToken t = peek();
        if (t != null && t.type() == JsonToken.Type.RCURLY) {
            pos++;
            return o;
        }
        for (;;) {
            t = peek();
            if (t == null) {
                throw new ParseError("expecting value");
            }
            if (t.type() != JsonToken.Type.STRING) {
                if (t.type() == JsonToken.Type.RCURLY || t.type() == JsonToken.Type.COMMA || t.type() == JsonToken.Type.COLON
                        || t.type() == JsonToken.Type.RSQUARE) {
                    throw new ParseError("expecting value");
                }
                throw new ParseError("key is not a string in object");
            }
            pos++;
            String key = string(t.text());
            t = peek();
            if (t == null || t.type() != JsonToken.Type.COLON) {
                throw new ParseError("missing : in object pair");
            }
            pos++;
            JsonNode v = value();
            if (o.has(key)) {
                throw new ParseError("duplicate key");
            }
            o.set(key, v);
            t = peek();
            if (t != null && t.type() == JsonToken.Type.RCURLY) {
                pos++;
                return o;
            }
            if (t == null || t.type() != JsonToken.Type.COMMA) {
                throw new ParseError("expected separator in dict");
            }
            pos++;
        }
    }

    private ArrayNode array() throws ParseError {
        pos++; // [
        ArrayNode a = NODES.arrayNode();
        JsonToken t = peek();
        if (t != null && t.type() == JsonToken.Type.RSQUARE) {
            pos++;
            return a;
        }
        for (;;) {
            a.add(value());
            t = peek();
            if (t != null && t.type() == JsonToken.Type.RSQUARE) {
                pos++;
                return a;
            }
            if (t == null || t.type() != JsonToken.Type.COMMA) {
                throw new ParseError("expected separator in array");
            }
            pos++;
        }
    }

    /** Decodes a string token (quotes included, one char per input byte) to Java text. */
    private static String string(String raw) throws ParseError {
        StringBuilder sb = new StringBuilder(raw.length());
        int end = raw.length() - 1;
        for (int i = 1; i < end; ) {
            char c = raw.charAt(i);
            if (c == '\\') {
                char e = raw.charAt(i + 1);
                i += 2;
                switch (e) {
                    case '"', '\'', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        int cp = hex4(raw, i);
                        i += 4;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            if (i + 6 <= end && raw.charAt(i) == '\\' && raw.charAt(i + 1) == 'u') {
                                int lo = hex4(raw, i + 2);
                                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                                    sb.appendCodePoint(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
                                    i += 6;
                                    continue;
                                }
                            }
                            throw new ParseError(String.format("\\u%04x is not a valid Unicode character", cp));
                        }
                        if (cp >= 0xDC00 && cp <= 0xDFFF) {
                            throw new ParseError(String.format("\\u%04x is not a valid Unicode character", cp));
                        }
                        sb.append((char) cp);
                    }
                    default -> throw new ParseError("invalid escape sequence in string");
                }
            } else if (c < 0x80) {
                sb.append(c);
                i++;
            } else {
                i = utf8(raw, i, end, sb);
            }
        }
        return sb.toString();
    }

    private static int hex4(String raw, int at) throws ParseError {
        if (at + 4 > raw.length() - 1) {
            throw new ParseError("invalid escape sequence in string");
        }
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(raw.charAt(at + k), 16);
            if (d < 0) {
                throw new ParseError("invalid escape sequence in string");
            }
            v = v * 16 + d;
        }
        return v;
    }

    private static int utf8(String raw, int i, int end, StringBuilder sb) throws ParseError {
        int b0 = raw.charAt(i);
        int n;
        int cp;
        if ((b0 & 0xE0) == 0xC0) {
            n = 1;
            cp = b0 & 0x1F;
        } else if ((b0 & 0xF0) == 0xE0) {
            n = 2;
            cp = b0 & 0x0F;
        } else if ((b0 & 0xF8) == 0xF0) {
            n = 3;
            cp = b0 & 0x07;
        } else {
            throw new ParseError("invalid UTF-8 sequence in string");
        }
        if (i + n >= end + 1 || i + n > end) {
            throw new ParseError("invalid UTF-8 sequence in string");
        }
        for (int k = 1; k <= n; k++) {
            int b = raw.charAt(i + k);
            if ((b & 0xC0) != 0x80) {
                throw new ParseError("invalid UTF-8 sequence in string");
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        int min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw new ParseError("invalid UTF-8 sequence in string");
        }
        sb.appendCodePoint(cp);
        return i + n + 1;
    }
}
