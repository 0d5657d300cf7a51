package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import dev.hostdeploy.worker.deploy.GitHubFixture;
import dev.hostdeploy.worker.deploy.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deployments with domains, end to end: the Manager, a real Worker deploying with dockerd, a real
 * Guardian (nft in a namespace of this test) driving a real Caddy on loopback with {@code tls internal};
 * each answer is read as a user would, with curl and Caddy's root.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class IngressEndToEndTest {
    @TempDir
    Path root;
    TestManager m;
    CaddyFixture caddy;
    RealHost realHost;
    GitHubFixture github;
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);
    final List<String> projects = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        TestImages.ensureBusybox();
        github = new GitHubFixture(root);
        caddy = new CaddyFixture();
        m = TestManager.start(root.resolve("manager"), c -> c.allowedOrgs(List.of("acme")).domainTls("internal"));
        realHost = RealHost.builder("hdi").caddy(caddy).deploy(SiteFixture.deployOptions(github)).start(m, root);
        realHost.register(m);
    }

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        if (realHost != null) {
            realHost.close();
        }
        for (String p : projects) {
            SiteFixture.removeProject(p);
        }
        if (github != null) {
            github.close();
        }
        if (caddy != null) {
            caddy.close();
        }
    }

    @Test
    void aDeploymentWithADomainIsServedThroughCaddyKeepsItsRouteAcrossRedeploysAndLosesItOnDelete() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/site");
        repo.push("v1", SiteFixture.site("hello " + runId, 0));
        String name = "site-" + runId;
        projects.add(name);
        String host = "app-" + runId + ".test";

        // A wildcard or a space is refused before anything is stored.
        for (String bad : List.of("*.test", "a b.test")) {
            var refused = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/site", "host", "lumi",
                    "domains", List.of(Map.of("host", bad, "service", "web", "port", 8080))));
            assertThat(refused.status()).as(refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains("host");
        }
        assertThat(m.admin("GET", "/deployments/" + name, null).status()).isEqualTo(404);

        var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/site", "host", "lumi",
                "domains", List.of(Map.of("host", host.toUpperCase(), "service", "web", "port", 8080))));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        assertThat(created.json().at("/domains/0/host").asText()).isEqualTo(host);
        await(name + " running").atMost(Duration.ofSeconds(120))
                .until(() -> "running".equals(m.admin("GET", "/deployments/" + name, null).json()
                        .path("state").asText()));
        caddy.awaitHttps(host, "hello " + runId + "\n", Duration.ofSeconds(60));
        JsonNode d = m.admin("GET", "/deployments/" + name, null).json();
        assertThat(d.at("/domains/0/upstream").asText()).startsWith("127.0.0.1:");

        // Another deployment cannot claim the hostname, and nothing of it is stored.
        var thief = m.admin("POST", "/deployments", Map.of("name", "thief-" + runId, "repo", "acme/site",
                "host", "lumi", "domains", List.of(Map.of("host", host, "service", "web", "port", 8080))));
        assertThat(thief.status()).as(thief.body()).isEqualTo(409);
        assertThat(thief.body()).contains(host);
        assertThat(m.admin("GET", "/deployments/thief-" + runId, null).status()).isEqualTo(404);

        // The admin's view: owner, TLS mode, the certificate's expiry.
        JsonNode routes = m.admin("GET", "/ingress", null).json();
        assertThat(routes).hasSize(1);
        assertThat(routes.at("/0/owner").asText()).isEqualTo("deployment/" + name);
        assertThat(routes.at("/0/tls").asText()).isEqualTo("internal");
        assertThat(routes.at("/0/active").asBoolean()).isTrue();
        assertThat(java.time.Instant.parse(routes.at("/0/certificateNotAfter").asText())).isAfter(java.time.Instant.now());

        // A redeploy of a new commit keeps the route, following the service's published port.
        repo.push("v2", SiteFixture.site("second " + runId, 0));
        assertThat(m.admin("POST", "/deployments/" + name + "/redeploy", null).status()).isEqualTo(202);
        caddy.awaitHttps(host, "second " + runId + "\n", Duration.ofSeconds(120));

        // A Guardian that lost its state gets its routes back from the Manager when it reconnects.
        realHost.stopGuardian();
        realHost.startGuardian(root.resolve("guardian-state-new"));
        caddy.awaitHttps(host, "second " + runId + "\n", Duration.ofSeconds(60));

        // New domains replace the old: the new hostname is routed, the dropped one answers no more.
        String other = "www-" + runId + ".test";
        var patched = m.admin("PATCH", "/deployments/" + name, Map.of("domains",
                List.of(Map.of("host", other, "service", "web", "port", 8080))));
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(patched.json().at("/domains/0/host").asText()).isEqualTo(other);
        assertThat(patched.json().at("/domains/0/upstream").asText()).startsWith("127.0.0.1:");
        caddy.awaitHttps(other, "second " + runId + "\n", Duration.ofSeconds(60));
        assertThat(caddy.https(host)).isNull();

        var deleted = m.admin("DELETE", "/deployments/" + name, null);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        assertThat(caddy.https(other)).isNull();
        assertThat(m.admin("GET", "/ingress", null).json()).isEmpty();
    }

    @Test
    void aStoppedDeploymentLosesItsRouteButKeepsItsHostnameAndARedeployServesItAgain() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/site");
        repo.push("v1", SiteFixture.site("up " + runId, 0));
        String name = "paused-" + runId;
        projects.add(name);
        String host = "paused-" + runId + ".test";
        var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/site", "host", "lumi",
                "domains", List.of(Map.of("host", host, "service", "web", "port", 8080))));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        caddy.awaitHttps(host, "up " + runId + "\n", Duration.ofSeconds(120));
        assertThat(m.admin("GET", "/ingress", null).json()).hasSize(1);

        // Stopped: no route at the front any more (Caddy would proxy to a dead upstream), the hostname answers no more.
        var stopped = m.admin("POST", "/deployments/" + name + "/stop", null);
        assertThat(stopped.status()).as(stopped.body()).isEqualTo(200);
        assertThat(stopped.json().path("state").asText()).isEqualTo("stopped");
        assertThat(m.admin("GET", "/ingress", null).json()).isEmpty();
        assertThat(caddy.https(host)).isNull();

        // The hostname stays the deployment's: still listed on it, and nobody else may claim it.
        JsonNode d = m.admin("GET", "/deployments/" + name, null).json();
        assertThat(d.at("/domains/0/host").asText()).isEqualTo(host);
        assertThat(d.at("/domains/0/upstream").isMissingNode() || d.at("/domains/0/upstream").isNull()).isTrue();
        var thief = m.admin("POST", "/deployments", Map.of("name", "thief-" + runId, "repo", "acme/site",
                "host", "lumi", "domains", List.of(Map.of("host", host, "service", "web", "port", 8080))));
        assertThat(thief.status()).as(thief.body()).isEqualTo(409);

        // A redeploy routes it again.
        assertThat(m.admin("POST", "/deployments/" + name + "/redeploy", null).status()).isEqualTo(202);
        caddy.awaitHttps(host, "up " + runId + "\n", Duration.ofSeconds(120));
        JsonNode routes = m.admin("GET", "/ingress", null).json();
        assertThat(routes).hasSize(1);
        assertThat(routes.at("/0/host").asText()).isEqualTo(host);
        assertThat(routes.at("/0/active").asBoolean()).isTrue();
    }
}
