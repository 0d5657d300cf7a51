package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class OpenApiAndMetricsTest {
    static final String METRICS_TOKEN = "metrics-scraper-token-0123456789abcdef";
    @TempDir
    static Path root;
    static TestManager m;
    static TestAgent worker;
    static TestAgent guardian;

    @BeforeAll
    static void start() throws Exception {
        m = TestManager.start(root, c -> c.metricsToken(METRICS_TOKEN));
        worker = TestAgent.start("worker", m.manager.identity().fingerprint());
        guardian = TestAgent.start("guardian", m.manager.identity().fingerprint());
        m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(), "guardian", guardian.registration()));
        await("agents connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
    }

    @AfterAll
    static void stop() {
        m.close();
        worker.close();
        guardian.close();
    }

    @Test
    void openApiDocumentListsExactlyTheRoutesJavalinServes() {
        var r = m.get("/openapi.json", null);
        assertThat(r.status()).isEqualTo(200);
        JsonNode doc = r.json();
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        Set<String> documented = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fieldNames().forEachRemaining(method -> documented.add(method.toUpperCase() + " " + path.getKey()));
        }
        List<String> registered = m.manager.http().registeredEndpoints();
        assertThat(registered).isNotEmpty().doesNotHaveDuplicates();
        assertThat(documented).containsExactlyInAnyOrderElementsOf(registered);
        assertThat(documented).contains("GET /api/v1/health", "POST /api/v1/hosts", "DELETE /api/v1/tokens/{id}",
                "GET /api/v1/stats", "GET /api/v1/metrics", "GET /metrics", "GET /api/v1/audit",
                "GET /api/v1/openapi.json", "PATCH /api/v1/hosts/{id}");
    }

    @Test
    void everySchemaReferenceResolvesAndProtectedRoutesDeclareTheirSecurity() {
        JsonNode doc = m.get("/openapi.json", null).json();
        JsonNode schemas = doc.at("/components/schemas");
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(ref).startsWith("#/components/schemas/");
            assertThat(schemas.has(ref.substring("#/components/schemas/".length()))).as(ref).isTrue();
        }
        JsonNode health = doc.at("/paths/~1api~1v1~1health/get");
        assertThat(health.get("security")).isEmpty();
        JsonNode createHost = doc.at("/paths/~1api~1v1~1hosts/post");
        assertThat(createHost.at("/security/0").has("bearer")).isTrue();
        assertThat(createHost.at("/requestBody/content/application~1json/schema/$ref").asText()).endsWith("/NewHost");
        assertThat(createHost.at("/responses").has("403")).isTrue();
        JsonNode audit = doc.at("/paths/~1api~1v1~1audit/get/parameters");
        assertThat(audit.findValuesAsText("name")).contains("since", "actor", "limit");
        JsonNode deleteUser = doc.at("/paths/~1api~1v1~1users~1{id}/delete/parameters/0");
        assertThat(deleteUser.get("in").asText()).isEqualTo("path");
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().equals("$ref")) {
                    refs.add(e.getValue().asText());
                } else {
                    collectRefs(e.getValue(), refs);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, refs));
        }
    }

    @Test
    void metricsShowRequestsAgentsAndRecordsInPrometheusFormat() throws Exception {
        m.get("/health", null);
        m.admin("GET", "/stats", null);
        await("an rtt measured").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().all().iterator().next().worker().rttMs() != null);
        var r = m.get("/metrics", m.adminToken);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw().headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        String text = r.body();
        assertThat(text)
                .contains("# TYPE jetty_server_requests_seconds histogram")
                .containsPattern("jetty_server_requests_seconds_count\\{[^}]*method=\"GET\"[^}]*status=\"200\"[^}]*uri=\"/api/v1/health\"} [1-9]")
                .containsPattern("jetty_server_requests_seconds_bucket\\{[^}]*uri=\"/api/v1/stats\"[^}]*le=\"\\+Inf\"}")
                .contains("hostdeploy_agent_connected{agent=\"worker\",host=\"lumi\"} 1")
                .contains("hostdeploy_agent_connected{agent=\"guardian\",host=\"lumi\"} 1")
                .containsPattern("hostdeploy_agent_rtt_seconds\\{agent=\"worker\",host=\"lumi\"} [0-9.E-]+")
                .contains("hostdeploy_deployments{state=\"running\"} 2")
                .contains("hostdeploy_deployments{state=\"failed\"} 1")
                .contains("hostdeploy_containers{state=\"Running\"} 1")
                // JVM and Jetty come with Micrometer.
                .contains("jvm_memory_used_bytes{", "jetty_threads_busy", "process_uptime_seconds");
        // Raw paths with ids never become label values; unmatched ones are pooled.
        m.get("/users/abc123", m.adminToken);
        m.get("/no/such/thing", null);
        String after = m.get("/metrics", m.adminToken).body();
        assertThat(after).contains("uri=\"/api/v1/users/{id}\"").doesNotContain("abc123").doesNotContain("/no/such")
                .contains("uri=\"NOT_FOUND\"");
    }

    @Test
    void prometheusFindsTheMetricsAtItsDefaultPathAndTheApiPathStaysAnAlias() {
        var root = TestManager.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + m.manager.port() + "/metrics"))
                .header("Authorization", "Bearer " + METRICS_TOKEN));
        assertThat(root.status()).isEqualTo(200);
        assertThat(root.body()).contains("hostdeploy_agent_connected");
        assertThat(m.get("/metrics", METRICS_TOKEN).body()).contains("hostdeploy_agent_connected");
        var anonymous = TestManager.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + m.manager.port() + "/metrics")));
        assertThat(anonymous.status()).isEqualTo(401);
    }

    @Test
    void metricsAcceptTheDedicatedTokenAndRefuseMembers() {
        assertThat(m.get("/metrics", METRICS_TOKEN).status()).isEqualTo(200);
        assertThat(m.get("/metrics", null).status()).isEqualTo(401);
        // The metrics token opens nothing else.
        assertThat(m.get("/users", METRICS_TOKEN).status()).isEqualTo(401);
        String member = m.userToken("metrics-curious", "member");
        assertThat(m.get("/metrics", member).status()).isEqualTo(403);
    }

    @Test
    void healthNeedsNoTokenAndReportsDatabaseAndAgents() {
        var r = m.get("/health", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("ok");
        assertThat(r.json().at("/database/ok").asBoolean()).isTrue();
        assertThat(r.json().at("/database/embedded").asBoolean()).isTrue();
        assertThat(r.json().at("/agents/connected").asInt()).isEqualTo(2);
        assertThat(Duration.ZERO).isNotNull();
    }
}
