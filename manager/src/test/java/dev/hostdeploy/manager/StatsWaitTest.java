package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class StatsWaitTest {
    @TempDir
    Path root;

    @Test
    void aColdStatsRoundPastTheWaitIs503FromTheManagerAndTheNextRequestGetsItsFigures() throws Exception {
        try (TestManager m = TestManager.start(root, c -> c.statsWait(Duration.ofMillis(300)))) {
            CountDownLatch release = new CountDownLatch(1);
            // The Manager's own part of the round (its deployment counts) stalls: no agent is to blame.
            m.manager.stats().managed(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
            try {
                var late = m.get("/stats", m.adminToken);
                assertThat(late.status()).isEqualTo(503);
                assertThat(late.json().at("/error/code").asText()).isEqualTo("unavailable");
                assertThat(late.json().at("/error/details/source").asText()).isEqualTo("manager");
                assertThat(late.json().at("/error/details/retryable").asBoolean()).isTrue();
                assertThat(late.raw().headers().firstValue("Retry-After")).isPresent();
            } finally {
                release.countDown();
            }
            // The round went on: once it ends, its figures are served.
            var stats = await("the round's figures served").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(10)).until(() -> m.get("/stats", m.adminToken), r -> r.status() == 200);
            assertThat(stats.json().at("/totals/hosts").asInt()).isZero();
        }
    }
}
