package dev.hostdeploy.protocol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LogFilesTest {
    private static final Logger LOG = LoggerFactory.getLogger(LogFilesTest.class);

    @Test
    void eachEventIsOneLineInTheFileUnderTheLogDirStackTraceIncluded(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("logs/guardian");
        Path file = LogFiles.start(dir, "guardian");
        assertThat(LogFiles.start(dir, "guardian")).as("asking twice adds no second appender").isEqualTo(file);

        LOG.info("opened tcp/8080 for deployment/web");
        LOG.warn("nft failed", new IllegalStateException("table busy"));

        assertThat(file).isEqualTo(dir.resolve("guardian.log"));
        List<String> lines = Files.readAllLines(file).stream().filter(l -> l.contains("LogFilesTest")).toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("INFO").endsWith("- opened tcp/8080 for deployment/web");
        assertThat(lines.get(1)).contains("WARN", "- nft failed java.lang.IllegalStateException: table busy | at ").doesNotEndWith(" ");
    }

    @Test
    void anUnwritableDirectoryIsAnErrorNamingIt(@TempDir Path tmp) throws Exception {
        Path notADir = Files.writeString(tmp.resolve("file"), "x");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LogFiles.start(notADir.resolve("logs"), "worker"))
                .hasMessageContaining(notADir.toString());
    }
}
