package dev.lbrvmm.vmm.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One self-contained page (nothing fetched: no files, no network; opens offline): a summary, a flame graph
 * of the folded stacks, a branch-hotness bar chart and the top of the branch table, as inline
 * SVG. It is well-formed XHTML, so XML tools (and the tests) can parse it; hovering a frame or
 * bar shows its full text (SVG title), clicking a frame zooms to it, a button zooms out, and a
 * search box highlights the frames whose name matches and says what share of the samples they
 * cover (a few lines of inline script). The SVGs scale to the window's width (at most their
 * natural 1200 px), so nothing scrolls sideways in a narrow window.
 */
public final class FlameGraphHtml {
    static final int WIDTH = 1200, FRAME_HEIGHT = 18, BAR_HEIGHT = 20, CHART_ROWS = 20, TABLE_ROWS = 50;
    /** Width of one character of the 12 px monospace labels, as fit() and the script assume. */
    static final double CHAR_WIDTH = 7.2;

    private FlameGraphHtml() {}

    /** A flame-graph node: a frame with the samples of every stack passing through it. */
    static final class Node {
        final String name;
        long value;
        final Map<String, Node> children = new TreeMap<>();

        Node(String name) {
            this.name = name;
        }

        int depth() {
            int d = 0;
            for (Node c : children.values()) {
                d = Math.max(d, c.depth());
            }
            return d + 1;
        }
    }

    static Node tree(Map<String, Long> folded) {
        Node root = new Node("all");
        folded.forEach((stack, n) -> {
            root.value += n;
            Node at = root;
            for (String f : stack.split(";")) {
                at = at.children.computeIfAbsent(f, Node::new);
                at.value += n;
            }
        });
        return root;
    }

    public static String render(String title, List<String> summary, FoldedStacks stacks, BranchTable table, ProgramImage program) {
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        b.append("<title>").append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:1.5em;color:#222}\n")
                .append("svg text{font-family:monospace;font-size:12px;pointer-events:none}\n")
                .append("svg rect:hover{stroke:#000;stroke-width:1}\n")
                .append("svg.flamegraph,svg.hotness{width:100%;max-width:" + WIDTH + "px;height:auto;display:block}\n")
                .append("g.match rect{fill:rgb(200,80,220)}\n#controls{margin:0.5em 0}\n#controls input{width:16em}\n")
                .append(".hint{background:#fff6d5;border:1px solid #e0c060;padding:0.4em 0.8em;max-width:60em}\n")
                .append("table{border-collapse:collapse;font-family:monospace;font-size:12px}\n")
                .append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;overflow-wrap:anywhere}\ntd.n{text-align:right}\n")
                .append("</style>\n</head>\n<body>\n");
        b.append("<h1>").append(esc(title)).append("</h1>\n<ul>\n");
        for (String s : summary) {
            b.append("<li>").append(esc(s)).append("</li>\n");
        }
        b.append("</ul>\n");
        if (!program.hasSymbols()) {
            b.append("<p class=\"hint\">Addresses are not named and calls cannot be told from jumps, so each stack is a single "
                    + "address. Give the guest program: <code>lbrvmm report ... -p PROGRAM.elf</code> (or its config), or record "
                    + "with <code>lbrvmm record</code>, which keeps the program's symbols.</p>\n");
        }
        b.append("<h2>Flame graph (call stacks from the branch records; click a frame to zoom)</h2>\n");
        if (stacks.lbrDepth() > 0) {
            b.append("<p>Each stack comes from at most ").append(stacks.lbrDepth()).append(" branch records (the LBR's depth). ")
                    .append(stacks.truncated()).append(" sample").append(stacks.truncated() == 1 ? "" : "s")
                    .append(" filled every LBR slot, so older frames may be missing: their stacks hang under <code>")
                    .append(FoldedStacks.TRUNCATED).append("</code>.</p>\n");
        }
        b.append("<div id=\"controls\"><button type=\"button\" id=\"reset\">Reset zoom</button> "
                + "<input type=\"search\" id=\"search\" placeholder=\"search frames (substring)\"/> <span id=\"matched\"></span></div>\n");
        flameGraph(b, tree(stacks.counts()));
        List<BranchTable.Row> rows = table.rows();
        b.append("<h2>Branch hotness (top ").append(Math.min(CHART_ROWS, rows.size())).append(")</h2>\n");
        hotness(b, rows, table.records(), program);
        b.append("<h2>Branches</h2>\n<table>\n<tr><th>from</th><th>to</th><th>count</th><th>share</th><th>mispredicted</th></tr>\n");
        for (BranchTable.Row r : rows.subList(0, Math.min(TABLE_ROWS, rows.size()))) {
            b.append("<tr><td>").append(esc(String.format("%#x %s", r.from(), program.describe(r.from()))))
                    .append("</td><td>").append(esc(String.format("%#x %s", r.to(), program.describe(r.to()))))
                    .append("</td><td class=\"n\">").append(r.count())
                    .append("</td><td class=\"n\">").append(percent((double) r.count() / Math.max(1, table.records())))
                    .append("</td><td class=\"n\">").append(Double.isNaN(r.mispredictRate()) ? "-" : percent(r.mispredictRate()))
                    .append("</td></tr>\n");
        }
        b.append("</table>\n").append(ZOOM_SCRIPT).append("\n</body>\n</html>\n");
        return b.toString();
    }

    private static void flameGraph(StringBuilder b, Node root) {
        int depth = root.depth();
        int height = depth * FRAME_HEIGHT + 4;
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flamegraph\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\">\n", WIDTH, height, WIDTH, height));
        if (root.value > 0) {
            frame(b, root, 0, WIDTH, 0, depth, root.value);
        }
        b.append("</svg>\n");
    }

    private static void frame(StringBuilder b, Node n, double x, double w, int level, int depth, long total) {
        double y = (depth - 1 - level) * FRAME_HEIGHT;
        String label = n.name + " (" + n.value + (n.value == 1 ? " sample, " : " samples, ") + percent((double) n.value / total) + ")";
        b.append(String.format(Locale.ROOT, "<g class=\"frame\" data-x=\"%.4f\" data-w=\"%.4f\" data-l=\"%d\" data-name=\"%s\">"
                + "<title>%s</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>",
                x, w, level, esc(n.name), esc(label), x, y, Math.max(w - 0.5, 0.1), FRAME_HEIGHT - 1, warm(n.name)));
        b.append(String.format(Locale.ROOT, "<text x=\"%.2f\" y=\"%.1f\">%s</text></g>%n", x + 3, y + FRAME_HEIGHT - 5, esc(fit(n.name, w))));
        double cx = x;
        for (Node c : n.children.values()) {
            double cw = w * c.value / n.value;
            frame(b, c, cx, cw, level + 1, depth, total);
            cx += cw;
        }
    }

    /** The name cut to what fits a frame of width w (monospace 12px), or nothing. The script does the same on zoom. */
    static String fit(String name, double w) {
        int chars = (int) ((w - 6) / CHAR_WIDTH);
        if (chars < 3) {
            return "";
        }
        return name.length() <= chars ? name : name.substring(0, chars - 2) + "..";
    }

    /**
     * Click a frame to zoom to it (its ancestors stretch to full width, frames beside it hide);
     * click the root to zoom out. Inline and offline; written without characters XML would need
     * escaped, so the page stays well-formed.
     */
    private static final String ZOOM_SCRIPT = String.join("\n",
            "<script type=\"text/javascript\">//<![CDATA[",
            "(function () {",
            "  var W = " + WIDTH + ";",
            "  var frames = Array.prototype.slice.call(document.querySelectorAll('g.frame'));",
            "  function fit(name, w) { var c = Math.floor((w - 6) / 7.2); if (c < 3) return ''; return name.length <= c ? name : name.substring(0, c - 2) + '..'; }",
            "  function zoom(target) {",
            "    var x0 = +target.dataset.x, w0 = +target.dataset.w, l0 = +target.dataset.l;",
            "    frames.forEach(function (g) {",
            "      var x = +g.dataset.x, w = +g.dataset.w, l = +g.dataset.l;",
            "      var inside = x + 1e-6 >= x0 && x + w <= x0 + w0 + 1e-6;",
            "      var below = !(l >= l0) && x <= x0 + 1e-6 && x + w + 1e-6 >= x0 + w0;",
            "      var show = (inside && l >= l0) || below;",
            "      g.style.display = show ? '' : 'none';",
            "      if (!show) return;",
            "      var nx = below ? 0 : (x - x0) * W / w0, nw = below ? W : w * W / w0;",
            "      var r = g.querySelector('rect'), t = g.querySelector('text');",
            "      r.setAttribute('x', nx); r.setAttribute('width', Math.max(nw - 0.5, 0.1));",
            "      t.setAttribute('x', nx + 3); t.textContent = fit(g.dataset.name, nw);",
            "    });",
            "  }",
            "  frames.forEach(function (g) { g.style.cursor = 'pointer'; g.addEventListener('click', function () { zoom(g); }); });",
            "  var root = frames.filter(function (g) { return g.dataset.l === '0'; })[0];",
            "  document.getElementById('reset').addEventListener('click', function () { if (root) zoom(root); });",
            "  var box = document.getElementById('search'), said = document.getElementById('matched');",
            "  box.addEventListener('input', function () {",
            "    var q = box.value, spans = [];",
            "    frames.forEach(function (g) {",
            "      var hit = q.length > 0 && g.dataset.name.indexOf(q) >= 0;",
            "      g.classList.toggle('match', hit);",
            "      if (hit) spans.push([+g.dataset.x, +g.dataset.x + +g.dataset.w]);",
            "    });",
            "    spans.sort(function (a, b) { return a[0] - b[0]; });",
            "    var covered = 0, end = -1; // the union of the matching frames' spans is their share of the samples",
            "    spans.forEach(function (s) { if (s[1] > end) { covered += s[1] - Math.max(s[0], end); end = s[1]; } });",
            "    said.textContent = q.length === 0 ? '' : spans.length + ' frames match, ' + (100 * covered / W).toFixed(1) + '% of samples';",
            "  });",
            "})();",
            "//]]></script>");

    private static void hotness(StringBuilder b, List<BranchTable.Row> rows, long records, ProgramImage program) {
        List<BranchTable.Row> top = new ArrayList<>(rows.subList(0, Math.min(CHART_ROWS, rows.size())));
        int labelWidth = 520;
        int height = top.size() * BAR_HEIGHT + 4;
        int detailChars = 0;
        for (BranchTable.Row r : top) {
            detailChars = Math.max(detailChars, detail(r, records).length());
        }
        double barRoom = WIDTH - labelWidth - 12 - detailChars * CHAR_WIDTH; // the longest bar's text still fits
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"hotness\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\">\n", WIDTH, height, WIDTH, height));
        long max = top.isEmpty() ? 1 : top.get(0).count();
        for (int i = 0; i < top.size(); i++) {
            BranchTable.Row r = top.get(i);
            double y = i * BAR_HEIGHT;
            String name = program.describe(r.from()) + " -> " + program.describe(r.to());
            double rate = r.mispredictRate();
            String detail = detail(r, records);
            double w = barRoom * r.count() / max;
            b.append(String.format(Locale.ROOT, "<g><title>%s</title><text x=\"0\" y=\"%.1f\">%s</text>"
                    + "<rect x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>"
                    + "<text x=\"%.2f\" y=\"%.1f\">%s</text></g>\n",
                    esc(name + ": " + detail), y + BAR_HEIGHT - 6, esc(fit(name, labelWidth - 4)), labelWidth, y + 2, Math.max(w, 1), BAR_HEIGHT - 4,
                    mispredictColour(rate), labelWidth + Math.max(w, 1) + 6, y + BAR_HEIGHT - 6, esc(detail)));
        }
        b.append("</svg>\n<p>Bar colour: green = always predicted, red = always mispredicted, grey = format has no mispredict bit.</p>\n");
    }

    private static String detail(BranchTable.Row r, long records) {
        double rate = r.mispredictRate();
        return r.count() + " (" + percent((double) r.count() / Math.max(1, records)) + ")"
                + (Double.isNaN(rate) ? "" : ", mispredicted " + percent(rate));
    }

    /** A flame-graph colour that depends only on the name, so runs compare at a glance. */
    private static String warm(String name) {
        int h = name.hashCode();
        int r = 205 + Math.floorMod(h, 50);
        int g = 80 + Math.floorMod(h >>> 8, 120);
        int bl = Math.floorMod(h >>> 16, 55);
        return String.format("rgb(%d,%d,%d)", r, g, bl);
    }

    private static String mispredictColour(double rate) {
        if (Double.isNaN(rate)) {
            return "rgb(150,150,150)";
        }
        return String.format("rgb(%d,%d,60)", (int) (60 + 180 * rate), (int) (180 - 120 * rate));
    }

    static String percent(double f) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * f);
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        b.append('?'); // not allowed in XML 1.0
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
