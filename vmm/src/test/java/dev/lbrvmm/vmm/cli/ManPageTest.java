package dev.lbrvmm.vmm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The man pages' sources (the hidden gen-manpage command, which the build runs before asciidoctor
 * turns them into target/man/man1/*.1): one page per command a user can see, each naming every
 * option that command takes, and none for the hidden generator itself.
 */
class ManPageTest {
    @TempDir
    Path dir;

    @Test
    void everyVisibleCommandHasAPageNamingAllItsOptions() throws Exception {
        CliRunner.Result r = CliRunner.run("gen-manpage", "--outdir=" + dir);
        assertThat(r.status()).as(r.err()).isZero();
        CommandLine top = Main.commandLine(System.out, System.err);
        List<CommandSpec> commands = visible(top.getCommandSpec()).toList();
        assertThat(commands.stream().map(CommandSpec::qualifiedName))
                .contains("lbrvmm run", "lbrvmm record", "lbrvmm report", "lbrvmm bench sampling");
        for (CommandSpec c : commands) {
            Path page = dir.resolve(c.qualifiedName("-") + ".adoc");
            assertThat(page).as("the man page of " + c.qualifiedName()).exists();
            String text = Files.readString(page).replace("[no-]", ""); // a negatable option is shown as --[no-]NAME
            assertThat(text).contains("= " + c.qualifiedName("-") + "(1)");
            for (OptionSpec o : c.options().stream().filter(o -> !o.hidden()).toList()) {
                assertThat(text).as(c.qualifiedName() + "'s page names " + o.longestName()).contains("*" + o.longestName() + "*");
            }
        }
        try (Stream<Path> pages = Files.list(dir)) {
            assertThat(pages.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("gen-manpage"))
                    .hasSize(commands.size());
        }
    }

    private static Stream<CommandSpec> visible(CommandSpec c) {
        return Stream.concat(Stream.of(c), c.subcommands().values().stream().map(CommandLine::getCommandSpec)
                .filter(s -> !s.usageMessage().hidden()).distinct().flatMap(ManPageTest::visible));
    }
}
