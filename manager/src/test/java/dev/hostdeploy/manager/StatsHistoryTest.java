package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class StatsHistoryTest {
    @TempDir
    Path root;

    @Test
    void connectedHostIsSampledOnTheIntervalAndServedAsColumns() throws Exception {
        try (TestManager m = TestManager.start(root, c -> c.statsHistory(Duration.ofMillis(200), Duration.ofDays(7)));
             TestAgent worker = TestAgent.start("worker", m.manager.identity().fingerprint());
             TestAgent guardian = TestAgent.start("guardian", m.manager.identity().fingerprint())) {
            var host = m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(),
                    "guardian", guardian.registration()));
            assertThat(host.status()).as(host.body()).isEqualTo(201);
            String id = host.json().get("id").asText();
            await("three samples").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                JsonNode h = m.get("/stats/history?host=" + id, m.adminToken).json();
                return h.get("hosts").size() == 1 && h.at("/hosts/0/t").size() >= 3;
            });
            JsonNode h = m.get("/stats/history?host=" + id, m.adminToken).json();
            JsonNode lumi = h.at("/hosts/0");
            assertThat(lumi.get("name").asText()).isEqualTo("lumi");
            assertThat(lumi.get("cpu").get(0).asDouble()).isEqualTo(25.0);
            assertThat(lumi.get("memory").get(0).asDouble()).isEqualTo(25.0);
            assertThat(lumi.get("disk").get(0).asDouble()).isEqualTo(60.0);
            assertThat(lumi.get("t").size()).isEqualTo(lumi.get("cpu").size());
            // A member never reads the history.
            assertThat(m.get("/stats/history", m.userToken("mia", "member")).status()).isEqualTo(403);
        }
    }

    @Test
    void samplesOlderThanTheRetentionArePurgedAndRangesAreChecked() throws Exception {
        try (TestManager m = TestManager.start(root, c -> c.statsHistory(Duration.ofHours(1), Duration.ofDays(7)))) {
            var history = m.manager.statsHistory();
            HostStats s = new HostStats(0, 0, 0, 1, 100, 50, "/", 100, 50, 0, 0, 0.5);
            history.record("h1", Date.from(Instant.now().minus(Duration.ofDays(7).plusHours(2))), s);
            history.record("h1", Date.from(Instant.now().minus(Duration.ofMinutes(5))), s);
            String from = Instant.now().minus(Duration.ofDays(7).plusHours(3)).toString();
            assertThat(m.get("/stats/history?from=" + from, m.adminToken).json().at("/hosts/0/t").size()).isEqualTo(2);
            assertThat(history.purge()).isEqualTo(1);
            JsonNode week = m.get("/stats/history?from=" + from, m.adminToken).json();
            assertThat(week.at("/hosts/0/t").size()).isEqualTo(1);
            assertThat(week.at("/hosts/0/cpu/0").asDouble()).isEqualTo(50.0);

            var tooLong = m.get("/stats/history?from=" + Instant.now().minus(Duration.ofDays(30)), m.adminToken);
            assertThat(tooLong.status()).isEqualTo(400);
            assertThat(tooLong.json().at("/error/details/field").asText()).isEqualTo("from");
            var notADate = m.get("/stats/history?to=yesterday", m.adminToken);
            assertThat(notADate.status()).isEqualTo(400);
            assertThat(notADate.json().at("/error/details/field").asText()).isEqualTo("to");
        }
    }
}
