package dev.lbrvmm.vmm.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.monitor.QmpCommand;
import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.ReplyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every command query-commands lists has a typed reply (a record, a list of one, or one of the
 * fixed kinds) and a section in docs/monitor.md with an example exchange that executes it.
 */
class MonitorCommandTableTest {
    private static final Path DOC = Path.of(System.getProperty("lbrvmm.home", "..")).resolve("docs/monitor.md");

    private static List<QmpCommand> commands() {
        VmmMonitor m = new VmmMonitor(new QmpMonitor.Version(0, 1, 0, "test"), Runnable::run);
        return List.copyOf(m.monitor().registry().all());
    }

    @Test
    void everyReplyIsDeclaredAsAType() {
        for (QmpCommand c : commands()) {
            ReplyType r = c.returns();
            assertThat(r).as(c.name()).isNotNull();
            boolean fixedKind = r == ReplyType.NONE || r == ReplyType.STR || r == ReplyType.ANY;
            if (!fixedKind) {
                assertThat(r.javaType().isRecord()).as("%s replies with a record, not %s", c.name(), r.javaType()).isTrue();
                assertThat(r.schemaName()).as(c.name()).isEqualTo(r.list() ? "[" + r.javaType().getSimpleName() + "]"
                        : r.javaType().getSimpleName());
            }
        }
    }

    @Test
    void everyCommandHasADocumentedExampleExchange() throws Exception {
        String doc = Files.readString(DOC);
        for (QmpCommand c : commands()) {
            Matcher section = Pattern.compile("(?ms)^### " + Pattern.quote(c.name()) + "\\s*$(.*?)(?=^#{2,3} |\\z)").matcher(doc);
            assertThat(section.find()).as("docs/monitor.md has a '### %s' section", c.name()).isTrue();
            String body = section.group(1);
            assertThat(body).as("the %s section sends it", c.name())
                    .containsPattern("-> \\{\"(execute|exec-oob)\": \"" + Pattern.quote(c.name()) + "\"");
            assertThat(body).as("the %s section shows the reply", c.name()).containsPattern("<- \\{\"(return|error)\"");
        }
    }
}
