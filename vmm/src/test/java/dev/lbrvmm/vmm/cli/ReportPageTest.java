package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The HTML report as a user meets it: labels that fit, a [truncated] root for stacks the LBR cut,
 * a hint without symbols, and the page's script run in jsdom (src/test/js/flamegraph-page.js:
 * click-to-zoom, reset, search, no console errors) when node and npm are on the machine.
 */
class ReportPageTest {
    private static final Path JSDOM = Path.of("target", "jsdom");

    @TempDir
    Path dir;

    private Path page(String... recordOptions) throws Exception {
        Path data = dir.resolve("r.data");
        List<String> args = new java.util.ArrayList<>(List.of("record", CliRunner.home().resolve("configs/fib.conf").toString(),
                "--output", data.toString()));
        args.addAll(List.of(recordOptions));
        assertThat(CliRunner.run(args.toArray(String[]::new)).status()).isZero();
        Path html = dir.resolve("r.html");
        assertThat(CliRunner.run("report", data.toString(), "--html", html.toString()).status()).isZero();
        return html;
    }

    private static Document parse(Path html) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(html.toFile());
    }

    @Test
    void labelsFitStacksCutByTheLbrHangUnderTruncatedAndTheControlsAreThere() throws Exception {
        Path html = page();
        Document d = parse(html);
        NodeList texts = d.getElementsByTagName("text");
        for (int i = 0; i < texts.getLength(); i++) {
            Element t = (Element) texts.item(i);
            double right = Double.parseDouble(t.getAttribute("x")) + t.getTextContent().length() * 7.2;
            assertThat(right).as("'%s' ends inside the 1200-unit chart", t.getTextContent()).isLessThanOrEqualTo(1200);
        }
        String page = Files.readString(html);
        assertThat(page).contains("data-name=\"[truncated]\"").contains("Each stack comes from at most 32 branch records")
                .contains("id=\"search\"").contains("id=\"reset\"").contains("svg.flamegraph,svg.hotness{width:100%");
        assertThat(page).doesNotContain("class=\"hint\"");
    }

    @Test
    void withoutSymbolsThePageSaysHowToGetThem() throws Exception {
        Path dump = dir.resolve("old.json");
        Files.writeString(dump, "{\"vcpus\": [{\"index\": 0, \"model\": \"skylake-client\", \"format\": 5, \"depth\": 32, \"tos\": 0,"
                + " \"debugctl\": 1, \"lbr_select\": 0, \"entries\": [{\"from\": 4198400, \"to\": 4198410}]}]}");
        Path html = dir.resolve("h.html");
        assertThat(CliRunner.run("report", dump.toString(), "--html", html.toString()).status()).isZero();
        parse(html);
        assertThat(Files.readString(html)).contains("class=\"hint\"").contains("-p PROGRAM.elf");
    }

    @Test
    void zoomResetAndSearchWorkInJsdom() throws Exception {
        Path html = page("--call-graph", "lbr");
        assumeTrue(installJsdom(), "node/npm or the npm registry is not available: the page's script is not run");
        ProcessBuilder pb = new ProcessBuilder("node", Path.of("src/test/js/flamegraph-page.js").toString(), html.toString())
                .redirectErrorStream(true);
        pb.environment().put("NODE_PATH", JSDOM.resolve("node_modules").toAbsolutePath().toString());
        Process node = pb.start();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(node.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(node.exitValue()).as(out).isZero();
        assertThat(out).startsWith("OK ");
    }

    /** jsdom (pinned) in target/jsdom, installed once per build; false when node or npm is missing or npm fails. */
    private static synchronized boolean installJsdom() throws InterruptedException {
        try {
            if (!Files.isDirectory(JSDOM.resolve("node_modules/jsdom"))) {
                Files.createDirectories(JSDOM);
                Process npm = new ProcessBuilder("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", JSDOM.toString(),
                        "jsdom@24.1.3").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!npm.waitFor(300, TimeUnit.SECONDS)) {
                    npm.destroyForcibly(); // no registry: skip rather than hang the build
                    return false;
                }
                if (npm.exitValue() != 0) {
                    return false;
                }
            }
            return new ProcessBuilder("node", "--version").start().waitFor() == 0 && Files.isDirectory(JSDOM.resolve("node_modules"));
        } catch (IOException e) {
            return false;
        }
    }
}
