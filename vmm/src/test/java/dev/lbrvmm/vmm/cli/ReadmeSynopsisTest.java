package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The README's synopsis of each command names every option its --help shows, and no option --help lacks. */
class ReadmeSynopsisTest {
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])(--\\[no-\\][a-z][a-z-]*|--[a-z][a-z-]*|-[a-zA-Z])(?![\\w-])");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"run", "record", "report", "qmp", "bench", "bench lbr-policy", "bench sampling", "bench qmp"})
    void synopsisAndHelpAgree(String command) throws Exception {
        List<String> readme = Files.readAllLines(CliRunner.home().resolve("README.md"));
        String synopsis = readme.subList(readme.indexOf("## Using it"), readme.size()).stream()
                .filter(l -> l.matches("    \\./lbrvmm " + Pattern.quote(command) + "( .*|$)")
                        && !(command.equals("bench") && l.matches("    \\./lbrvmm bench (lbr-policy|sampling|qmp).*")))
                .findFirst().orElseThrow(() -> new AssertionError("README has no synopsis line for " + command));
        String help = CliRunner.run((command + " --help").split(" ")).out();
        Set<String> inHelp = options(help.lines().filter(l -> l.matches("\\s+(-\\w, )?--?[\\w\\[].*")).toList());
        inHelp.removeAll(Set.of("-h", "--help", "-V", "--version"));
        Set<String> inReadme = options(List.of(synopsis));
        assertThat(inReadme).as("README synopsis of " + command).containsAll(inHelp);
        assertThat(inHelp).as("--help of " + command).containsAll(inReadme);
    }

    private static Set<String> options(List<String> lines) {
        Set<String> out = new LinkedHashSet<>();
        for (String l : lines) {
            String head = l.strip().split("\\s{2,}")[0]; // an option line: the names, then the description
            Matcher m = OPTION.matcher(lines.size() == 1 && l.startsWith("    ./") ? l : head);
            while (m.find()) {
                out.add(m.group(1).replace("[no-]", ""));
            }
        }
        return out;
    }
}
