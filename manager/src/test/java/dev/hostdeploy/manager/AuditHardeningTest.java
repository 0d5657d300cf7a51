package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What anonymous floods, long paths and a failing store do to the audit log and health. */
@Timeout(120)
class AuditHardeningTest {
    @TempDir
    Path root;

    static double metric(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.E+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void twoThousandRefusedRequestsLeaveAFewAuditDocumentsAndAreCounted() throws Exception {
        try (TestManager m = TestManager.start(root)) {
            var audit = m.manager.store().database().collection("audit");
            long before = audit.countDocuments();
            List<CompletableFuture<HttpResponse<Void>>> pending = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(m.url("/users")))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{}"));
                if (i % 4 == 0) {
                    b.header("Authorization", "Bearer hd_guess" + i);
                }
                pending.add(TestManager.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.discarding()));
                if (pending.size() == 50) {
                    for (var p : pending) {
                        assertThat(p.join().statusCode()).isIn(401, 429);
                    }
                    pending.clear();
                }
            }
            pending.forEach(CompletableFuture::join);

            JsonNode refused = m.admin("GET", "/audit?actor=anonymous&limit=1000", null).json();
            long counted = 0;
            for (JsonNode e : refused) {
                assertThat(e.get("action").asText()).isEqualTo("auth.refused");
                counted += e.get("count").asLong();
            }
            assertThat(counted).isEqualTo(2000);
            // O(1) documents: one per address, reason and minute, not one per request.
            assertThat(audit.countDocuments() - before).isLessThanOrEqualTo(6);

            String metrics = m.get("/metrics", m.adminToken).body();
            double unauthorized = metric(metrics, "hostdeploy_http_refused_total{reason=\"unauthorized\"}");
            double tooMany = metric(metrics, "hostdeploy_http_refused_total{reason=\"too_many_requests\"}");
            assertThat(unauthorized + tooMany).isEqualTo(2000);
            assertThat(unauthorized).isGreaterThanOrEqualTo(1500);
            // The flood locked no one out.
            assertThat(m.get("/users", m.adminToken).status()).isEqualTo(200);
        }
    }

    @Test
    void longPathsAndTargetsAreTruncatedInTheAuditLog() throws Exception {
        try (TestManager m = TestManager.start(root)) {
            String longId = "h".repeat(4000);
            assertThat(m.admin("DELETE", "/hosts/" + longId, null).status()).isEqualTo(404);
            assertThat(m.post("/users/" + longId + "/tokens", null, "{}").status()).isEqualTo(401);
            JsonNode audit = m.admin("GET", "/audit", null).json();
            assertThat(audit).hasSizeGreaterThanOrEqualTo(2);
            for (JsonNode e : audit) {
                assertThat(e.get("target").asText().length()).isLessThanOrEqualTo(256);
            }
            for (Document d : m.manager.store().database().collection("audit").find()) {
                assertThat(d.toJson().length()).isLessThan(1500);
            }
        }
    }

    @Test
    void auditPagesAreStableWhileNewEntriesArrive() throws Exception {
        try (TestManager m = TestManager.start(root)) {
            for (int i = 0; i < 25; i++) {
                assertThat(m.admin("POST", "/users", Map.of("name", "pager" + i)).status()).isEqualTo(201);
            }
            List<String> seen = new ArrayList<>();
            String before = null;
            int pages = 0;
            while (true) {
                JsonNode page = m.admin("GET", "/audit?limit=10" + (before == null ? "" : "&before=" + before), null).json();
                assertThat(page.isArray()).as(page.toString()).isTrue();
                if (page.isEmpty()) {
                    break;
                }
                for (JsonNode e : page) {
                    seen.add(e.get("id").asText());
                }
                before = page.get(page.size() - 1).get("id").asText();
                // New entries while paging must not shift the pages still to come.
                m.admin("POST", "/users", Map.of("name", "late" + pages));
                pages++;
                assertThat(pages).isLessThan(10);
            }
            Set<String> unique = new HashSet<>(seen);
            assertThat(unique).hasSize(seen.size());
            assertThat(seen).hasSize(25);
            assertThat(pages).isEqualTo(3);
            var bad = m.admin("GET", "/audit?before=no-such-entry", null);
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.json().at("/error/details/field").asText()).isEqualTo("before");
        }
    }

    @Test
    void entriesOlderThanTheRetentionAreDeleted() throws Exception {
        try (TestManager m = TestManager.start(root, c -> c.auditRetention(Duration.ofDays(30)))) {
            var audit = m.manager.store().database().collection("audit");
            audit.insertOne(new Document("_id", "ancient").append("time", Date.from(Instant.now().minus(Duration.ofDays(31))))
                    .append("actor", "admin").append("action", "user.create").append("target", "user/old")
                    .append("result", "ok").append("address", "127.0.0.1"));
            m.admin("POST", "/users", Map.of("name", "recent"));
            m.manager.store().audit().enforceRetention();
            assertThat(audit.countDocuments(new Document("_id", "ancient"))).isZero();
            assertThat(RestartAndAuditTest.actions(m.admin("GET", "/audit", null).json()))
                    .contains("admin user.create user/recent ok");
        }
    }

    @Test
    void aStoreThatNoLongerWritesTurnsHealthTo503() throws Exception {
        // An external store the test can break underneath the Manager: its H2 file closed, as when the
        // embedded store ran out of memory. It still answers ping, so only a write finds out.
        H2Backend backend = new H2Backend(root.resolve("external.mv.db").toString());
        MongoServer server = new MongoServer(backend);
        InetSocketAddress address = server.bind();
        try (TestManager m = TestManager.start(root, c -> c.mongoUri("mongodb://127.0.0.1:" + address.getPort() + "/hd"))) {
            assertThat(m.get("/health", null).status()).isEqualTo(200);
            assertThat(m.get("/health", null).json().get("store").asText()).isEqualTo("ok");
            backend.close();
            assertThat(m.admin("POST", "/users", Map.of("name", "lost")).status()).isEqualTo(500);
            await("health to report the store failing").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                    .until(() -> m.get("/health", null).status() == 503);
            var health = m.get("/health", null);
            assertThat(health.json().get("status").asText()).isEqualTo("unavailable");
            assertThat(health.json().get("store").asText()).startsWith("failing: ");
        } finally {
            server.shutdownNow();
        }
    }
}
