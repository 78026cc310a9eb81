package dev.lbrvmm.monitor.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The QMP input stream: QEMU 7.2's observed behaviour (its json-lexer.c and json-streamer.c, as observed on the wire). */
class JsonStreamerTest {
    /** Parsed values as QMP JSON text, errors as "ERR: text". */
    static List<String> feed(String input) {
        return feed(input.getBytes(StandardCharsets.ISO_8859_1));
    }

    static List<String> feed(byte[] input) {
        List<String> out = new ArrayList<>();
        JsonStreamer s = new JsonStreamer(new JsonStreamer.Listener() {
            @Override
            public void value(JsonNode value) {
                out.add(QmpJsonWriter.write(value));
            }

            @Override
            public void error(String message) {
                out.add("ERR: " + message);
            }
        });
        s.feed(input, 0, input.length);
        return out;
    }

    @Test
    void messagesNeedNoDelimiterAndMaySplitAnywhere() {
        assertThat(feed("{\"execute\":\"a\"}{\"execute\":\"b\"}")).containsExactly("{\"execute\": \"a\"}", "{\"execute\": \"b\"}");
        List<String> out = new ArrayList<>();
        JsonStreamer s = new JsonStreamer(new JsonStreamer.Listener() {
            @Override
            public void value(JsonNode v) {
                out.add(QmpJsonWriter.write(v));
            }

            @Override
            public void error(String m) {
                out.add("ERR: " + m);
            }
        });
        for (byte b : " { \"execute\" :\t\"query-status\" , \"id\": [1, {}] }\r\n".getBytes(StandardCharsets.US_ASCII)) {
            s.feed(new byte[] {b}, 0, 1);
        }
        assertThat(out).containsExactly("{\"execute\": \"query-status\", \"id\": [1, {}]}");
    }

    @Test
    void aNumberAtTheEndIsCompleteOnlyWhenMoreFollows() {
        assertThat(feed("42")).isEmpty();
        assertThat(feed("42 ")).containsExactly("42");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"execute\": }                 | ERR: JSON parse error, expecting value",
        "{\"execute\": foo}              | ERR: JSON parse error, invalid keyword 'foo'",
        "{\"execute\" \"x\"}             | ERR: JSON parse error, missing : in object pair",
        "{\"execute\": \"x\" \"id\": 1}  | ERR: JSON parse error, expected separator in dict",
        "{\"execute\": \"x\",}           | ERR: JSON parse error, expecting value",
        "{1: 2}                          | ERR: JSON parse error, key is not a string in object",
        "{\"a\": 1, \"a\": 2}            | ERR: JSON parse error, duplicate key",
        "{\"a\": \"\\x41\"}              | ERR: JSON parse error, invalid escape sequence in string",
        "{\"a\": \"\\ud800\"}            | ERR: JSON parse error, \\ud800 is not a valid Unicode character",
    })
    void syntaxErrorsHaveQemusTexts(String input, String expected) {
        assertThat(feed(input)).containsExactly(expected);
    }

    @Test
    void strayTokensAndRecovery() {
        assertThat(feed("{\"execute\": @}")).containsExactly("ERR: JSON parse error, stray '@'", "ERR: JSON parse error, expecting value");
        assertThat(feed("]]]")).hasSize(3).containsOnly("ERR: JSON parse error, expecting value");
        // After a stray token the lexer skips to the next structural or control character (json-lexer.c IN_RECOVERY):
        assertThat(feed("{\"a\": 01}")).containsExactly("ERR: JSON parse error, stray '01'", "ERR: JSON parse error, expecting value");
        assertThat(feed("{\"execute\": \"a\tb\"}")).containsExactly("ERR: JSON parse error, stray '\"a\t'",
                "ERR: JSON parse error, expecting value");
        assertThat(feed("@abc true {}")).as("'abc' and 'true' skipped, not keywords")
                .containsExactly("ERR: JSON parse error, stray '@'", "{}");
        assertThat(feed("@ab\tc\n{}")).as("TAB is skipped, a newline resynchronises")
                .containsExactly("ERR: JSON parse error, stray '@'", "{}");
        assertThat(feed("{\"execute\": \"query-status\n")).containsExactly("ERR: JSON parse error, stray '\"query-status\n'");
        assertThat(feed("{\"execute\": \"query-status")).as("unterminated: waits").isEmpty();
        assertThat(feed("{\"execute\":\"query-st\u0001{\"execute\":\"x\"}"))
                .containsExactly("ERR: JSON parse error, stray '\"query-st\u0001'", "{\"execute\": \"x\"}");
        assertThat(feed("{\"a\": 1} xyz ")).containsExactly("{\"a\": 1}", "ERR: JSON parse error, invalid keyword 'xyz'");
        assertThat(feed("   \r\n\t ")).isEmpty();
    }

    @Test
    void invalidUtf8AndTheResetByte() {
        byte[] bad = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, '(', '"', '}'};
        assertThat(feed(bad)).containsExactly("ERR: JSON parse error, invalid UTF-8 sequence in string");
        byte[] ff = {'{', '"', 'x', (byte) 0xFF, '{', '}'};
        assertThat(feed(ff)).containsExactly("ERR: JSON parse error, stray '\"x\uFFFD'", "{}");
        byte[] ffWhileRecovering = {'@', 'a', (byte) 0xFF, 'b', '{', '}'};
        assertThat(feed(ffWhileRecovering)).as("0xFF ends recovery and is itself a stray byte")
                .containsExactly("ERR: JSON parse error, stray '@'", "ERR: JSON parse error, stray '\uFFFD'", "{}");
    }

    @Test
    void qemuExtensionsAndValueEcho() {
        assertThat(feed("{'execute': 'query-status', 'id': 'it\\'s'}"))
                .containsExactly("{\"execute\": \"query-status\", \"id\": \"it's\"}");
        assertThat(feed("[\"caf\u00c3\u00a9\", \"\\u00e9\", \"\\uD83D\\uDE00\", \"\\u0000\"] "))
                .containsExactly("[\"caf\\u00E9\", \"\\u00E9\", \"\\uD83D\\uDE00\", \"\\u0000\"]");
        assertThat(feed("[18446744073709551615, 18446744073709551616, 0.1, 2.5E-3, 1e3, 3.0, -0.0, -0, 1e308] "))
                .containsExactly("[18446744073709551615, 1.8446744073709552e+19, 0.10000000000000001, 0.0025000000000000001,"
                        + " 1000, 3, -0, 0, 1e+308]");
    }

    @Test
    void numbersBeyondADoubleAreAnErrorNotAnInfinityThatNoClientCouldRead() {
        assertThat(feed("{\"id\": 1e400} {\"id\": -1" + "0".repeat(400) + "} [1e308]"))
                .containsExactly("ERR: JSON parse error, number '1e400' is out of range",
                        "ERR: JSON parse error, number '-1" + "0".repeat(38) + "...' is out of range", "[1e+308]");
    }

    @Test
    void nestingLimitAndRecovery() {
        String deep = "[".repeat(1024) + "]".repeat(1024);
        assertThat(feed(deep)).hasSize(1).first().asString().startsWith("[[[");
        List<String> over = feed("[".repeat(1025) + "]".repeat(1025));
        assertThat(over.get(0)).isEqualTo("ERR: JSON nesting depth limit exceeded");
        assertThat(over).hasSize(1 + 1025);
        assertThat(over.subList(1, over.size())).containsOnly("ERR: JSON parse error, expecting value");
    }

    @Test
    void tokenCountLimit() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < JsonStreamer.MAX_TOKENS; i++) {
            sb.append("1,");
        }
        sb.append("1]");
        List<String> out = feed(sb.toString());
        assertThat(out.get(0)).isEqualTo("ERR: JSON token count limit exceeded");
    }
}
