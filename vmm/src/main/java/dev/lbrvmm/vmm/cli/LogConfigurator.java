package dev.lbrvmm.vmm.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging set up in code rather than from XML (found by Logback through ServiceLoader): parsing a
 * configuration file costs start-up time before the monitor's greeting. Everything goes to stderr
 * as "lbrvmm: LEVEL: message"; lbrvmm's own level comes from LBRVMM_LOG (default WARN).
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext ctx) {
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("lbrvmm: %level: %msg%n");
        enc.start();
        ConsoleAppender<ILoggingEvent> err = new ConsoleAppender<>();
        err.setContext(ctx);
        err.setTarget("System.err");
        err.setEncoder(enc);
        err.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(err);
        String level = System.getenv("LBRVMM_LOG");
        ctx.getLogger("dev.lbrvmm").setLevel(Level.toLevel(level, Level.WARN));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * Sends the log to a file (appended, each line with its time) instead of stderr: a VMM in the
     * background keeps its warnings out of the user's terminal ({@code --log FILE}).
     */
    static Runnable toFile(java.nio.file.Path file) throws java.io.IOException {
        java.nio.file.Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !java.nio.file.Files.isDirectory(dir)) {
            throw new java.io.IOException("its folder " + dir + " does not exist");
        }
        if (java.nio.file.Files.isDirectory(file)) {
            throw new java.io.IOException("it is a directory");
        }
        LoggerContext ctx = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} lbrvmm: %level: %msg%n");
        enc.start();
        ch.qos.logback.core.FileAppender<ILoggingEvent> out = new ch.qos.logback.core.FileAppender<>();
        out.setContext(ctx);
        out.setFile(file.toString());
        out.setAppend(true);
        out.setEncoder(enc);
        out.start();
        if (!out.isStarted()) {
            throw new java.io.IOException("it cannot be opened for writing");
        }
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        java.util.List<ch.qos.logback.core.Appender<ILoggingEvent>> before = new java.util.ArrayList<>();
        root.iteratorForAppenders().forEachRemaining(before::add);
        before.forEach(root::detachAppender);
        root.addAppender(out);
        return () -> { // back to the appenders before (an in-process caller such as a test goes on logging as before)
            root.detachAppender(out);
            out.stop();
            before.forEach(root::addAppender);
        };
    }
}
