package dev.lbrvmm.monitor.json;

/**
 * A lexical token of QMP input. {@code text} is the raw bytes of the token as ISO-8859-1
 * characters (one char per byte), so string tokens are decoded (UTF-8, escapes) by the parser.
 */
public record JsonToken(Type type, String text) {
    public enum Type { LCURLY, RCURLY, LSQUARE, RSQUARE, COLON, COMMA, STRING, INTEGER, FLOAT, KEYWORD, ERROR }

    public boolean opens() {
        return type == Type.LCURLY || type == Type.LSQUARE;
    }

    public boolean closes() {
        return type == Type.RCURLY || type == Type.RSQUARE;
    }
}
