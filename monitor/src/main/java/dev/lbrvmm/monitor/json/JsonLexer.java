package dev.lbrvmm.monitor.json;

import java.util.function.Consumer;

/**
 * QEMU's JSON lexer (qobject/json-lexer.c) as a byte-at-a-time state machine: whitespace, the six
 * structural characters, double- and single-quoted strings, RFC 8259 numbers and lower-case
 * keywords. A byte that cannot continue the current token ends it as an ERROR token carrying the
 * partial text and that byte (QEMU's "stray" token); then, as json-lexer.c's IN_RECOVERY state does,
 * everything is skipped up to the next structural character, control character other than TAB, or
 * byte 0xFE/0xFF, which is lexed afresh. So {@code "a<TAB>b"} is one error, not an error and a
 * keyword {@code b}. Control characters other than TAB/CR/LF and the bytes 0xFE/0xFF are always
 * errors, which is how clients reset the parser. A number or keyword is complete only when the next
 * byte arrives.
 */
public final class JsonLexer {
    private enum State { START, RECOVERY, STRING, STRING_ESCAPE, MINUS, ZERO, INT, FRAC_START, FRAC, EXP_START, EXP_SIGN, EXP, KEYWORD }

    /** A single token may not exceed this many bytes (QEMU: 64 MiB). */
    public static final int MAX_TOKEN_BYTES = 64 << 20;

    private final Consumer<JsonToken> out;
    private final StringBuilder buf = new StringBuilder();
    private State state = State.START;
    private char quote;

    public JsonLexer(Consumer<JsonToken> out) {
        this.out = out;
    }

    public void feed(byte[] data, int off, int len) {
        for (int i = off; i < off + len; i++) {
            feed(data[i] & 0xFF);
        }
    }

    public void feed(int b) {
        char c = (char) b;
        for (;;) {
            switch (state) {
                case START -> {
                    start(c);
                    return;
                }
                case RECOVERY -> {
                    if (resynchronizes(c)) {
                        state = State.START;
                        continue; // json-lexer.c: IN_START | LOOKAHEAD, the byte is lexed again
                    }
                    return; // skipped
                }
                case STRING -> {
                    if (c == quote) {
                        buf.append(c);
                        emit(JsonToken.Type.STRING);
                    } else if (c == '\\') {
                        buf.append(c);
                        state = State.STRING_ESCAPE;
                    } else if (c < 0x20 || c == 0xFE || c == 0xFF) {
                        buf.append(c);
                        emit(JsonToken.Type.ERROR);
                    } else {
                        append(c);
                    }
                    return;
                }
                case STRING_ESCAPE -> {
                    if (c < 0x20 || c == 0xFE || c == 0xFF) {
                        buf.append(c);
                        emit(JsonToken.Type.ERROR);
                    } else {
                        buf.append(c);
                        state = State.STRING;
                    }
                    return;
                }
                case MINUS -> {
                    if (c == '0') {
                        buf.append(c);
                        state = State.ZERO;
                        return;
                    }
                    if (c >= '1' && c <= '9') {
                        buf.append(c);
                        state = State.INT;
                        return;
                    }
                    error(c);
                    return;
                }
                case ZERO -> {
                    if (c >= '0' && c <= '9') {
                        error(c); // leading zero: "01" is a stray token
                        return;
                    }
                    if (afterInteger(c)) {
                        return;
                    }
                    emit(JsonToken.Type.INTEGER);
                    continue; // re-lex c from START
                }
                case INT -> {
                    if (c >= '0' && c <= '9') {
                        append(c);
                        return;
                    }
                    if (afterInteger(c)) {
                        return;
                    }
                    emit(JsonToken.Type.INTEGER);
                    continue;
                }
                case FRAC_START -> {
                    if (c >= '0' && c <= '9') {
                        buf.append(c);
                        state = State.FRAC;
                        return;
                    }
                    error(c);
                    return;
                }
                case FRAC -> {
                    if (c >= '0' && c <= '9') {
                        append(c);
                        return;
                    }
                    if (c == 'e' || c == 'E') {
                        buf.append(c);
                        state = State.EXP_START;
                        return;
                    }
                    emit(JsonToken.Type.FLOAT);
                    continue;
                }
                case EXP_START -> {
                    if (c == '+' || c == '-') {
                        buf.append(c);
                        state = State.EXP_SIGN;
                        return;
                    }
                    if (c >= '0' && c <= '9') {
                        buf.append(c);
                        state = State.EXP;
                        return;
                    }
                    error(c);
                    return;
                }
                case EXP_SIGN -> {
                    if (c >= '0' && c <= '9') {
                        buf.append(c);
                        state = State.EXP;
                        return;
                    }
                    error(c);
                    return;
                }
                case EXP -> {
                    if (c >= '0' && c <= '9') {
                        append(c);
                        return;
                    }
                    emit(JsonToken.Type.FLOAT);
                    continue;
                }
                case KEYWORD -> {
                    if (c >= 'a' && c <= 'z') {
                        append(c);
                        return;
                    }
                    emit(JsonToken.Type.KEYWORD);
                    continue;
                }
            }
        }
    }

    /** The bytes IN_RECOVERY stops at: structural characters, control characters but TAB, 0xFE and 0xFF. */
    private static boolean resynchronizes(char c) {
        return switch (c) {
            case '[', ']', '{', '}', ':', ',' -> true;
            case '\t' -> false;
            default -> c < 0x20 || c >= 0xFE;
        };
    }

    private boolean afterInteger(char c) {
        if (c == '.') {
            buf.append(c);
            state = State.FRAC_START;
            return true;
        }
        if (c == 'e' || c == 'E') {
            buf.append(c);
            state = State.EXP_START;
            return true;
        }
        return false;
    }

    private void start(char c) {
        switch (c) {
            case ' ', '\t', '\r', '\n' -> { }
            case '{' -> out.accept(new JsonToken(JsonToken.Type.LCURLY, "{"));
            case '}' -> out.accept(new JsonToken(JsonToken.Type.RCURLY, "}"));
            case '[' -> out.accept(new JsonToken(JsonToken.Type.LSQUARE, "["));
            case ']' -> out.accept(new JsonToken(JsonToken.Type.RSQUARE, "]"));
            case ':' -> out.accept(new JsonToken(JsonToken.Type.COLON, ":"));
            case ',' -> out.accept(new JsonToken(JsonToken.Type.COMMA, ","));
            case '"', '\'' -> {
                quote = c;
                buf.append(c);
                state = State.STRING;
            }
            case '-' -> {
                buf.append(c);
                state = State.MINUS;
            }
            case '0' -> {
                buf.append(c);
                state = State.ZERO;
            }
            default -> {
                if (c >= '1' && c <= '9') {
                    buf.append(c);
                    state = State.INT;
                } else if (c >= 'a' && c <= 'z') {
                    buf.append(c);
                    state = State.KEYWORD;
                } else {
                    buf.append(c);
                    emit(JsonToken.Type.ERROR);
                }
            }
        }
    }

    private void append(char c) {
        if (buf.length() >= MAX_TOKEN_BYTES) {
            buf.setLength(0);
            state = State.START;
            out.accept(new JsonToken(JsonToken.Type.ERROR, null)); // null text: token size limit
            return;
        }
        buf.append(c);
    }

    private void error(char c) {
        buf.append(c);
        emit(JsonToken.Type.ERROR);
    }

    private void emit(JsonToken.Type t) {
        String text = buf.toString();
        buf.setLength(0);
        state = t == JsonToken.Type.ERROR ? State.RECOVERY : State.START;
        out.accept(new JsonToken(t, text));
    }
}
