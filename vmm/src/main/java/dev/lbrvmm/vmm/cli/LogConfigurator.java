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
}
