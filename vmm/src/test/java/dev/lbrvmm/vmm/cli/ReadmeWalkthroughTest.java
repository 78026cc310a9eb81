package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, run as the README writes it (each part of its {@code &&} chain in
 * order, paths relative to the checkout): it must succeed and show branch stacks named by symbol.
 * When the README and the program disagree, this fails.
 */
class ReadmeWalkthroughTest {
    @Test
    void theFirstCommandRecordsAndReportsTheLbr() throws Exception {
        List<String> readme = Files.readAllLines(CliRunner.home().resolve("README.md"));
        int section = readme.indexOf("## Two commands");
        String first = readme.subList(section, readme.size()).stream().filter(l -> l.startsWith("    ./lbrvmm ")).findFirst()
                .orElseThrow().strip();
        assertThat(first).as("the first command is a chain of lbrvmm commands").doesNotContain(";").doesNotContain("|");
        Path data = Path.of("lbrvmm.data"); // where the README's record writes, in the working directory
        try {
            String out = "";
            for (String part : first.split("&&")) {
                List<String> args = new ArrayList<>();
                for (String w : part.strip().split("\\s+")) {
                    args.add(w.startsWith("configs/") || w.startsWith("examples/") ? CliRunner.home().resolve(w).toString() : w);
                }
                assertThat(args.remove(0)).isEqualTo("./lbrvmm");
                CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
                assertThat(r.status()).as("'%s' (&& goes on only after success): %s", part.strip(), r.err()).isZero();
                out += r.out();
            }
            assertThat(out).contains("fib(30) = 832040").contains("lbrvmm record data").containsPattern("0x[0-9a-f]+ fib\\+0x[0-9a-f]+ ");
        } finally {
            Files.deleteIfExists(data);
        }
    }
}
