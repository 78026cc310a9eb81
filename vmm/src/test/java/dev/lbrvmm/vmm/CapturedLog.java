package dev.lbrvmm.vmm;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * For tests whose code logs warnings on purpose (host reclaim's "fail to passthrough LBR.", the
 * Linux shim's unsupported system calls): while each test runs, log events go to a list instead
 * of the build's console, and the test can assert on them with {@link #messages()}.
 */
public final class CapturedLog implements BeforeEachCallback, AfterEachCallback {
    private static volatile ListAppender<ILoggingEvent> current;
    private final List<Appender<ILoggingEvent>> detached = new ArrayList<>();

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Logger root = root();
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            detached.add(it.next());
        }
        detached.forEach(root::detachAppender);
        ListAppender<ILoggingEvent> list = new ListAppender<>();
        list.setContext(root.getLoggerContext());
        list.start();
        root.addAppender(list);
        current = list;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Logger root = root();
        root.detachAppender(current);
        current.stop();
        detached.forEach(root::addAppender);
        detached.clear();
    }

    /** "LEVEL: message" of every event logged so far in the running test. */
    public static List<String> messages() {
        return current.list.stream().map(e -> e.getLevel() + ": " + e.getFormattedMessage()).toList();
    }
}
