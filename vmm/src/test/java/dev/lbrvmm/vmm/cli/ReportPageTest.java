package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * a hint without symbols, and the page opened in headless Chromium at 900 px and clicked through
 * (src/test/js/flamegraph-browser.js: no overflow, no clipped label, click-to-zoom, reset, search,
 * no request and no console error).
 */
class ReportPageTest {
    private static final Path PLAYWRIGHT = Path.of("target", "playwright");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path dir;

    private Path page(String... recordOptions) throws Exception {
        return page(CliRunner.home().resolve("configs/fib.conf"), recordOptions);
    }

    private Path page(Path config, String... recordOptions) throws Exception {
        Path data = dir.resolve("r.data");
        List<String> args = new ArrayList<>(List.of("record", config.toString(),
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
    void zoomResetAndSearchWorkInChromiumAt900Pixels() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is not installed (.ci/run installs Debian's chromium): the page is not opened");
        Path html = page(CliRunner.home().resolve("configs/callchain.conf"), "--call-graph", "lbr");
        assertThat(installPlaywright()).as("npm install playwright-core into " + PLAYWRIGHT).isTrue();
        ProcessBuilder pb = new ProcessBuilder("node", Path.of("src/test/js/flamegraph-browser.js").toString(), html.toString(),
                CHROMIUM.toString(), Path.of("target", "report-page-900px.png").toString()).redirectErrorStream(true);
        pb.environment().put("NODE_PATH", PLAYWRIGHT.resolve("node_modules").toAbsolutePath().toString());
        Process node = pb.start();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(node.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(node.exitValue()).as(out).isZero();
        assertThat(out).startsWith("OK ");
    }

    /** playwright-core (pinned; it drives the installed Chromium, it downloads no browser) in target/playwright, once per build. */
    private static synchronized boolean installPlaywright() throws Exception {
        if (!Files.isDirectory(PLAYWRIGHT.resolve("node_modules/playwright-core"))) {
            Files.createDirectories(PLAYWRIGHT);
            Process npm = new ProcessBuilder("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", PLAYWRIGHT.toString(),
                    "playwright-core@1.65.2").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!npm.waitFor(300, TimeUnit.SECONDS)) {
                npm.destroyForcibly();
                return false;
            }
            return npm.exitValue() == 0;
        }
        return true;
    }
}
