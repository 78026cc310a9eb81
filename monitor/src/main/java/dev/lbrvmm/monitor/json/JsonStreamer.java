package dev.lbrvmm.monitor.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a QMP byte stream into messages as QEMU's json-streamer does: tokens are collected while
 * counting '{'/'[' against '}'/']'; a message ends when both counts are back to zero (or one goes
 * negative), and a scalar at top level is a message by itself. Lexical errors and limit overruns
 * discard what was collected and report one error; the rest of the input is parsed anew.
 */
public final class JsonStreamer {
    /** What the streamer delivers: a parsed value, or the text of one parse error. */
    public interface Listener {
        void value(JsonNode value);

        void error(String message);
    }

    public static final int MAX_NESTING = 1024;
    public static final int MAX_TOKENS = 2 << 20;
    public static final long MAX_BYTES = 64L << 20;

    private final Listener listener;
    private final JsonLexer lexer;
    private final List<JsonToken> tokens = new ArrayList<>();
    private int braces;
    private int brackets;
    private long bytes;

    public JsonStreamer(Listener listener) {
        this.listener = listener;
        this.lexer = new JsonLexer(this::token);
    }

    public void feed(byte[] data, int off, int len) {
        lexer.feed(data, off, len);
    }

    private void reset() {
        tokens.clear();
        braces = 0;
        brackets = 0;
        bytes = 0;
    }

    private void token(JsonToken t) {
        if (t.type() == JsonToken.Type.ERROR) {
            reset();
            if (t.text() == null) {
                listener.error("JSON token size limit exceeded");
            } else {
                listener.error("JSON parse error, stray '" + QmpJsonWriter.escapeForMessage(t.text()) + "'");
            }
            return;
        }
        switch (t.type()) {
            case LCURLY -> braces++;
            case RCURLY -> braces--;
            case LSQUARE -> brackets++;
            case RSQUARE -> brackets--;
            default -> { }
        }
        bytes += t.text().length();
        if (braces + brackets > MAX_NESTING) {
            reset();
            listener.error("JSON nesting depth limit exceeded");
            return;
        }
        if (tokens.size() + 1 > MAX_TOKENS) {
            reset();
            listener.error("JSON token count limit exceeded");
            return;
        }
        if (bytes > MAX_BYTES) {
            reset();
            listener.error("JSON token size limit exceeded");
            return;
        }
        tokens.add(t);
        if (braces < 0 || brackets < 0 || (braces == 0 && brackets == 0)) {
            List<JsonToken> message = new ArrayList<>(tokens);
            reset();
            try {
                listener.value(QmpJsonParser.parse(message));
            } catch (QmpJsonParser.ParseError e) {
                listener.error("JSON parse error, " + e.getMessage());
            }
        }
    }
}
