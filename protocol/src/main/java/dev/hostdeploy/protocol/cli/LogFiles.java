package dev.hostdeploy.protocol.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --log-dir}: besides stdout, every event also goes to {@code DIR/PROGRAM.log}, rolled over daily
 * and at 10 MB ({@code PROGRAM.yyyy-MM-dd.N.log.gz}), 14 days and at most 500 MB kept. Logback's own
 * rolling policy does the rotation, so no logrotate is needed; the pattern is logback.xml's.
 */
public final class LogFiles {
    static final String APPENDER = "file";
    static final String MAX_FILE_SIZE = "10MB";
    static final int MAX_DAYS = 14;
    static final String TOTAL_CAP = "500MB";

    private LogFiles() {
    }

    /** Adds the rotated file under {@code dir} (created if missing); a second call for the same program changes nothing. */
    public static Path start(Path dir, String program) throws IOException {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            throw new IllegalStateException("--log-dir needs the logback backend, found "
                    + LoggerFactory.getILoggerFactory().getClass().getName());
        }
        Path absolute = dir.toAbsolutePath();
        Files.createDirectories(absolute);
        Path file = absolute.resolve(program + ".log");
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        if (root.getAppender(APPENDER + ":" + file) != null) {
            return file;
        }
        String pattern = ctx.getProperty("HOSTDEPLOY_LOG_PATTERN");
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern(pattern != null ? pattern : "%d %-5level [%thread] %logger{36} - %msg%n");
        encoder.start();

        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(ctx);
        appender.setName(APPENDER + ":" + file);
        appender.setFile(file.toString());
        appender.setEncoder(encoder);

        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(ctx);
        policy.setParent(appender);
        policy.setFileNamePattern(absolute.resolve(program + ".%d{yyyy-MM-dd}.%i.log.gz").toString());
        policy.setMaxFileSize(FileSize.valueOf(MAX_FILE_SIZE));
        policy.setMaxHistory(MAX_DAYS);
        policy.setTotalSizeCap(FileSize.valueOf(TOTAL_CAP));
        policy.start();
        appender.setRollingPolicy(policy);
        appender.start();
        if (!appender.isStarted()) {
            throw new IOException("cannot write logs to " + file + " (see the lines above)");
        }
        root.addAppender(appender);
        return file;
    }
}
