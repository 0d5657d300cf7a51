package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Identity;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Hosts, live agent status and stats against real agent servers over mutual TLS on loopback. */
@Timeout(90)
class AgentRegistryTest {
    @TempDir
    Path root;
    TestManager m;
    TestAgent worker;
    TestAgent guardian;

    @BeforeEach
    void start() throws Exception {
        m = TestManager.start(root);
        String managerFp = m.manager.identity().fingerprint();
        worker = TestAgent.start("worker", managerFp);
        guardian = TestAgent.start("guardian", managerFp);
    }

    @AfterEach
    void stop() {
        m.close();
        worker.close();
        guardian.close();
    }

    String register(String name, Map<String, String> w, Map<String, String> g) {
        var r = m.admin("POST", "/hosts", Map.of("name", name, "worker", w, "guardian", g));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void registeredHostShowsItsAgentsLiveStatus() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("both agents connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
            JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean()
                    && !h.at("/worker/rttMs").isNull() && !h.at("/guardian/rttMs").isNull();
        });
        JsonNode hosts = m.admin("GET", "/hosts", null).json();
        assertThat(hosts).hasSize(1);
        JsonNode w = hosts.get(0).get("worker");
        assertThat(hosts.get(0).get("name").asText()).isEqualTo("lumi");
        assertThat(w.get("version").asText()).isEqualTo("9.8.7");
        assertThat(w.get("address").asText()).isEqualTo(worker.address());
        assertThat(w.get("fingerprint").asText()).isEqualTo(worker.identity.fingerprint());
        assertThat(w.get("rttMs").asDouble()).isPositive().isLessThan(5000);
        assertThat(w.get("lastSeen").asText()).matches("\\d{4}-.*Z");
        assertThat(w.get("lastError").isNull()).isTrue();
        var health = m.get("/health", null);
        assertThat(health.json().at("/agents/connected").asInt()).isEqualTo(2);
        assertThat(health.json().at("/agents/total").asInt()).isEqualTo(2);
    }

    @Test
    void statsShowTheUpAgentsFiguresAndTheDownAgentAsUnavailable() throws Exception {
        String downAddress = "127.0.0.1:" + freePort();
        String id = register("lumi", worker.registration(),
                Map.of("address", downAddress, "fingerprint", guardian.identity.fingerprint()));
        await("worker connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.admin("GET", "/hosts/" + id, null).json().at("/worker/connected").asBoolean());

        JsonNode stats = m.admin("GET", "/stats", null).json();
        JsonNode host = stats.get("hosts").get(0);
        assertThat(host.at("/agents/worker/connected").asBoolean()).isTrue();
        assertThat(host.at("/agents/guardian/connected").asBoolean()).isFalse();
        assertThat(host.at("/agents/guardian/lastError").asText()).isNotEmpty();
        assertThat(host.at("/host/load1").asDouble()).isEqualTo(0.5);
        assertThat(host.at("/host/memoryTotalBytes").asLong()).isEqualTo(8_000_000_000L);
        assertThat(host.at("/deployments/source").asText()).isEqualTo("live");
        assertThat(host.at("/deployments/byState/running").asInt()).isEqualTo(2);
        assertThat(host.at("/deployments/byState/failed").asInt()).isEqualTo(1);
        assertThat(host.at("/containers/byState/Running").asInt()).isEqualTo(1);
        assertThat(host.at("/containers/byState/Stopped").asInt()).isEqualTo(1);
        assertThat(host.get("openPorts").isNull()).isTrue();
        assertThat(host.at("/errors/firewall.list").asText()).startsWith("unavailable");
        assertThat(host.at("/errors/firewall.status").asText()).startsWith("unavailable");
        assertThat(host.get("errors").has("host.stats")).isFalse();
        JsonNode totals = stats.get("totals");
        assertThat(totals.at("/agents/connected").asInt()).isEqualTo(1);
        assertThat(totals.at("/agents/total").asInt()).isEqualTo(2);
        assertThat(totals.at("/deployments/running").asInt()).isEqualTo(2);
        assertThat(totals.at("/dockerContainers/running").asInt()).isEqualTo(4);
        assertThat(totals.at("/dockerContainers/total").asInt()).isEqualTo(5);
        assertThat(guardian.totalCalls()).isZero();
    }

    @Test
    void agentsServingASummaryAreAskedOnceEachPerRoundAndShowWhatOlderAgentsShowThroughFiveQueries() throws Exception {
        String managerFp = m.manager.identity().fingerprint();
        try (TestAgent newWorker = TestAgent.withSummaries("worker", managerFp);
             TestAgent newGuardian = TestAgent.withSummaries("guardian", managerFp)) {
            String older = register("older", worker.registration(), guardian.registration());
            String newer = register("newer", newWorker.registration(), newGuardian.registration());
            for (String id : List.of(older, newer)) {
                await("both agents of " + id).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                        .until(() -> {
                            JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
                            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
                        });
            }
            // (lxc.list and firewall.list are also asked on connect, by container recovery and the firewall check.)
            int lists = newWorker.calls("deploy.list") + newGuardian.calls("firewall.status");
            int olderLists = worker.calls("deploy.list");

            JsonNode hosts = m.admin("GET", "/stats", null).json().get("hosts");

            JsonNode a = hosts.get(0).get("name").asText().equals("older") ? hosts.get(0) : hosts.get(1);
            JsonNode b = a == hosts.get(0) ? hosts.get(1) : hosts.get(0);
            assertThat(b.get("name").asText()).isEqualTo("newer");
            for (String part : List.of("host", "deployments", "containers", "openPorts", "firewall", "errors")) {
                assertThat(b.get(part)).as(part).isEqualTo(a.get(part));
            }
            assertThat(b.at("/deployments/byState/running").asInt()).isEqualTo(2);
            assertThat(b.at("/openPorts/count").asInt()).isEqualTo(11);
            assertThat(b.get("errors")).isEmpty();
            assertThat(newWorker.calls("host.summary")).isEqualTo(1);
            assertThat(newGuardian.calls("firewall.summary")).isEqualTo(1);
            assertThat(newWorker.calls("deploy.list") + newGuardian.calls("firewall.status")).isEqualTo(lists);
            assertThat(worker.calls("deploy.list")).isEqualTo(olderLists + 1);
        }
    }

    @Test
    void statsCountOpenPortsAndAreCachedSoADashboardDoesNotFloodAgents() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("agents connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
        JsonNode first = m.admin("GET", "/stats", null).json();
        assertThat(first.at("/hosts/0/openPorts/count").asInt()).isEqualTo(11);
        assertThat(first.at("/hosts/0/openPorts/forwards").asInt()).isEqualTo(1);
        assertThat(first.at("/hosts/0/firewall/tablePresent").asBoolean()).isTrue();
        assertThat(first.at("/totals/openPorts").asInt()).isEqualTo(11);
        int before = worker.calls("host.stats");
        for (int i = 0; i < 50; i++) {
            assertThat(m.admin("GET", "/stats", null).status()).isEqualTo(200);
        }
        // 50 requests well inside the 500 ms cache: at most one more gathering round.
        assertThat(worker.calls("host.stats") - before).isLessThanOrEqualTo(1);
        // Unless a client asks for fresh figures: it waits for a round made after it asked.
        int cached = worker.calls("host.stats");
        String cachedAt = m.admin("GET", "/stats", null).json().get("generatedAt").asText();
        var fresh = TestManager.HTTP.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.url("/stats")))
                .header("Authorization", "Bearer " + m.adminToken).header("Cache-Control", "no-cache").build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(fresh.statusCode()).isEqualTo(200);
        assertThat(java.time.Instant.parse(dev.hostdeploy.protocol.Json.MAPPER.readTree(fresh.body()).get("generatedAt").asText()))
                .isAfter(java.time.Instant.parse(cachedAt));
        assertThat(worker.calls("host.stats")).isGreaterThan(cached);
        Thread.sleep(600); // lets the 500 ms cache expire: time has to pass, then one request must refresh it
        m.admin("GET", "/stats", null);
        await("a refresh after the cache expired").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> worker.calls("host.stats") > before);
        assertThat(id).isNotEmpty();
    }

    @Test
    void statsAnswerWithinTheRoundWithTheOtherHostsFiguresWhenOneHostIsTooSlow() throws Exception {
        String managerFp = m.manager.identity().fingerprint();
        try (TestAgent slowWorker = TestAgent.start("worker", managerFp);
             TestAgent slowGuardian = TestAgent.start("guardian", managerFp)) {
            slowWorker.holdStats = true;
            register("lumi", worker.registration(), guardian.registration());
            register("slow", slowWorker.registration(), slowGuardian.registration());
            await("agents connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                    .until(() -> m.manager.agents().connectedCount() == 4);
            try {
                long start = System.nanoTime();
                var r = m.admin("GET", "/stats", null);
                long tookMs = Duration.ofNanos(System.nanoTime() - start).toMillis();
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                // Stats call timeout 3 s (TestManager): the answer waits for no more than that and the round's slack.
                assertThat(tookMs).isBetween(2_500L, 5_000L);
                assertThat(slowWorker.waiting.get()).isEqualTo(1);

                JsonNode lumi = r.json().at("/hosts/0");
                assertThat(lumi.get("name").asText()).isEqualTo("lumi");
                assertThat(lumi.at("/host/load1").asDouble()).isEqualTo(0.5);
                assertThat(lumi.at("/deployments/source").asText()).isEqualTo("live");
                assertThat(lumi.at("/openPorts/count").asInt()).isEqualTo(11);
                assertThat(lumi.get("errors")).isEmpty();

                JsonNode slow = r.json().at("/hosts/1");
                assertThat(slow.get("name").asText()).isEqualTo("slow");
                assertThat(slow.get("host").isNull()).isTrue();
                assertThat(slow.at("/errors/host.stats").asText()).startsWith("timeout");
                // Only the slow query is lost: the host's other answers are live.
                assertThat(slow.at("/deployments/source").asText()).isEqualTo("live");
                assertThat(slow.at("/openPorts/count").asInt()).isEqualTo(11);
                assertThat(slow.get("errors")).hasSize(1);
                assertThat(r.json().at("/totals/dockerContainers/running").asInt()).isEqualTo(4);
            } finally {
                slowWorker.release.countDown();
            }
        }
    }

    @Test
    void agentPresentingAnotherKeyThanTheRegisteredOneIsNeverUsed() throws Exception {
        Identity impostorKey = Identity.generate("registered-but-not-presented");
        String id = register("lumi", Map.of("address", worker.address(), "fingerprint", impostorKey.fingerprint()),
                guardian.registration());
        await("guardian connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.admin("GET", "/hosts/" + id, null).json().at("/guardian/connected").asBoolean());
        await("worker refused").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> !m.admin("GET", "/hosts/" + id, null).json().at("/worker/refusedFingerprint").isNull());
        JsonNode w = m.admin("GET", "/hosts/" + id, null).json().get("worker");
        assertThat(w.get("connected").asBoolean()).isFalse();
        assertThat(w.get("refusedFingerprint").asText()).isEqualTo(worker.identity.fingerprint());
        JsonNode stats = m.admin("GET", "/stats", null).json().get("hosts").get(0);
        assertThat(stats.at("/errors/host.stats").asText()).startsWith("unavailable");
        var call = m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "host.stats"));
        assertThat(call.status()).isEqualTo(503);
        // An absence can only be watched for a while: a second without a command served.
        await("the agent with the wrong key left unused").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .untilAsserted(() -> assertThat(worker.totalCalls()).as("commands served by the agent with the wrong key")
                        .isZero());
        assertThat(guardian.calls("firewall.list")).isPositive();
    }

    @Test
    void managerReconnectsOnItsOwnWhenAnAgentComesBack() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
        worker.close();
        await("worker seen down").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> !m.admin("GET", "/hosts/" + id, null).json().at("/worker/connected").asBoolean());
        worker = worker.restart(m.manager.identity().fingerprint());
        await("worker back").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.admin("GET", "/hosts/" + id, null).json().at("/worker/connected").asBoolean());
        var call = m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "deploy.list"));
        assertThat(call.status()).isEqualTo(200);
        assertThat(call.json().at("/result/deployments")).hasSize(3);
    }

    @Test
    void storedRecordsStandInWhileTheWorkerIsDown() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
        assertThat(m.admin("GET", "/stats", null).json().at("/hosts/0/deployments/source").asText()).isEqualTo("live");
        worker.close();
        await("worker seen down").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> !m.admin("GET", "/hosts/" + id, null).json().at("/worker/connected").asBoolean());
        // Polled past the 500 ms cache of the live figures.
        await("stats refreshed without the worker").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.admin("GET", "/stats", null).json().at("/hosts/0/deployments/source").asText()
                        .equals("stored"));
        JsonNode host = m.admin("GET", "/stats", null).json().at("/hosts/0");
        assertThat(host.at("/deployments/byState/running").asInt()).isEqualTo(2);
        assertThat(host.at("/containers/total").asInt()).isEqualTo(2);
    }

    @Test
    void agentCommandsAreForwardedAndAuditedWithTheirOutcome() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
        var ok = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.list"));
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().at("/result/rules")).hasSize(2);
        var refused = m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "deploy.fail"));
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().at("/error/code").asText()).isEqualTo("conflict");
        assertThat(refused.json().at("/error/details/source").asText()).isEqualTo("agent");
        var unknown = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "nope.nothing"));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().at("/error/code").asText()).isEqualTo("unknown_command");
        var badAgent = m.admin("POST", "/hosts/" + id + "/agents/toaster/commands", Map.of("command", "ping"));
        assertThat(badAgent.json().at("/error/details/field").asText()).isEqualTo("agent");
        var badCommand = m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "rm -rf /"));
        assertThat(badCommand.json().at("/error/details/field").asText()).isEqualTo("command");

        JsonNode audit = m.admin("GET", "/audit?limit=20", null).json();
        assertThat(audit.toString())
                .contains("\"action\":\"agent.firewall.list\",\"target\":\"host/lumi/guardian\",\"result\":\"ok\"")
                .contains("\"action\":\"agent.deploy.fail\",\"target\":\"host/lumi/worker\",\"result\":\"conflict\"")
                .contains("\"action\":\"agent.nope.nothing\",\"target\":\"host/lumi/guardian\",\"result\":\"unknown_command\"");
    }

    @Test
    void agentCommandsInFlightHoldNoRequestThreads() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
        // More pending agent calls than the API has request threads (32).
        int calls = 40;
        List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            pending.add(TestManager.HTTP.sendAsync(HttpRequest.newBuilder(URI.create(m.url("/hosts/" + id
                            + "/agents/worker/commands")))
                    .header("Authorization", "Bearer " + m.adminToken).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"command\": \"slow.wait\", \"timeoutSeconds\": 60}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        await("every call waiting at the agent").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> worker.waiting.get() == calls);
        // The API still answers: no request thread is parked on an agent.
        assertThat(m.get("/health", null).status()).isEqualTo(200);
        assertThat(m.admin("GET", "/hosts/" + id, null).status()).isEqualTo(200);
        worker.release.countDown();
        for (CompletableFuture<HttpResponse<String>> f : pending) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("\"released\":true");
        }
    }

    @Test
    void deletingAHostDisconnectsItsAgentsAndDropsItsRecords() throws Exception {
        String id = register("lumi", worker.registration(), guardian.registration());
        await("connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.agents().connectedCount() == 2);
        m.admin("GET", "/stats", null);
        // Stored just after the answer.
        await("records stored").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> m.manager.records().size(dev.hostdeploy.manager.stats.Records.Kind.DEPLOYMENT) == 3);
        assertThat(m.admin("DELETE", "/hosts/" + id, null).status()).isEqualTo(204);
        await("agent sees the Manager go").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> !worker.hasConnection() && !guardian.hasConnection());
        assertThat(m.admin("GET", "/hosts", null).json()).isEmpty();
        assertThat(m.manager.records().size(dev.hostdeploy.manager.stats.Records.Kind.DEPLOYMENT)).isZero();
        assertThat(m.admin("GET", "/stats", null).json().at("/totals/hosts").asInt()).isZero();
    }

    @Test
    void hostRegistrationRefusesBadInputNamingTheField() {
        var badFp = m.admin("POST", "/hosts", Map.of("name", "lumi",
                "worker", Map.of("address", worker.address(), "fingerprint", "sha256:abc"),
                "guardian", guardian.registration()));
        assertThat(badFp.status()).isEqualTo(400);
        assertThat(badFp.json().at("/error/details/field").asText()).isEqualTo("worker.fingerprint");
        var badAddress = m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(),
                "guardian", Map.of("address", "wss://evil/; rm", "fingerprint", guardian.identity.fingerprint())));
        assertThat(badAddress.json().at("/error/details/field").asText()).isEqualTo("guardian.address");
        var noGuardian = m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration()));
        assertThat(noGuardian.json().at("/error/details/field").asText()).isEqualTo("guardian");
        var badName = m.admin("POST", "/hosts", Map.of("name", "LUMI!", "worker", worker.registration(),
                "guardian", guardian.registration()));
        assertThat(badName.json().at("/error/details/field").asText()).isEqualTo("name");
        register("lumi", worker.registration(), guardian.registration());
        var twice = m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(),
                "guardian", guardian.registration()));
        assertThat(twice.status()).isEqualTo(409);
    }
}
