package dev.lbrvmm.vmm.machine;

/**
 * A bound on how deep objects and lists nest in config text, checked before Typesafe Config parses
 * it: its parser and resolver recurse once per level, so a file (or {@code -o} value) nested some
 * thousands deep would end in a StackOverflowError instead of an error naming the line. No real
 * guest config comes near the limit.
 */
final class ConfigNesting {
    /** Deepest nesting of { and [ accepted. */
    static final int MAX_DEPTH = 200;

    private ConfigNesting() {}

    /**
     * Scans HOCON text, skipping quoted and triple-quoted strings and # and // comments.
     *
     * @param where the file name or "-o ..." for messages
     */
    static void check(String text, String where) throws GuestConfigException {
        int depth = 0;
        int line = 1;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> line++;
                case '{', '[' -> {
                    if (++depth > MAX_DEPTH) {
                        throw new GuestConfigException(where + ":" + line + ": objects and lists nest more than " + MAX_DEPTH
                                + " levels deep here; a guest config needs a handful");
                    }
                }
                case '}', ']' -> depth = Math.max(0, depth - 1);
                case '#' -> i = endOfLine(text, i) - 1;
                case '/' -> {
                    if (i + 1 < n && text.charAt(i + 1) == '/') {
                        i = endOfLine(text, i) - 1;
                    }
                }
                case '"' -> {
                    if (text.startsWith("\"\"\"", i)) {
                        int end = text.indexOf("\"\"\"", i + 3);
                        end = end < 0 ? n : end + 3;
                        line += count(text, i, end);
                        i = end - 1;
                    } else {
                        int j = i + 1;
                        while (j < n && text.charAt(j) != '"' && text.charAt(j) != '\n') {
                            j += text.charAt(j) == '\\' ? 2 : 1;
                        }
                        i = Math.min(j, n - 1);
                        if (i < n && text.charAt(i) == '\n') {
                            line++;
                        }
                    }
                }
                default -> { }
            }
        }
    }

    private static int endOfLine(String text, int from) {
        int e = text.indexOf('\n', from);
        return e < 0 ? text.length() : e;
    }

    private static int count(String text, int from, int to) {
        int k = 0;
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == '\n') {
                k++;
            }
        }
        return k;
    }
}
