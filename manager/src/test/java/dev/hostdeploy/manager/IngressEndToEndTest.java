package dev.hostdeploy.manager;

import static dev.hostdeploy.manager.DeploymentsEndToEndTest.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.deploy.GitHubFixture;
import dev.hostdeploy.worker.deploy.TestImages;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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
    String ns;
    CaddyFixture caddy;
    GuardianAgent guardian;
    Identity guardianKey;
    int guardianPort;
    DeployModule deploy;
    AgentServer worker;
    GitHubFixture github;
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);
    final List<String> projects = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        TestImages.ensureBusybox();
        github = new GitHubFixture(root);
        caddy = new CaddyFixture();
        m = TestManager.start(root.resolve("manager"), c -> c.allowedOrgs(List.of("acme")).domainTls("internal"));
        TrustPolicy manager = TrustPolicy.exactly(List.of(m.manager.identity().fingerprint()));
        ns = "hdi" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        run("ip", "netns", "add", ns);
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        guardianKey = Identity.generate("guardian");
        guardianPort = CaddyFixture.freePort();
        guardian = startGuardian(root.resolve("guardian-state"));
        HandlerRegistry registry = new HandlerRegistry();
        deploy = DeployModule.create(new DeployOptions().deployRoot(Files.createDirectories(root.resolve("deploy")))
                .gitBaseUrl(github.baseUrl()).allowedOrgs(List.of("acme")).healthTimeout(Duration.ofSeconds(40)));
        deploy.register(registry);
        Identity workerKey = Identity.generate("worker");
        worker = AgentServer.builder(workerKey, manager, registry)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version(Cli.version()).build();
        worker.start();
        var r = m.admin("POST", "/hosts", Map.of("name", "lumi",
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", workerKey.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardianPort, "fingerprint", guardianKey.fingerprint())));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String id = r.json().get("id").asText();
        await("both agents connected", () -> {
            JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
        });
    }

    private GuardianAgent startGuardian(Path state) throws Exception {
        GuardianAgent g = GuardianAgent.builder(guardianKey,
                        TrustPolicy.exactly(List.of(m.manager.identity().fingerprint())), state)
                .listen(new InetSocketAddress("127.0.0.1", guardianPort))
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft"))
                .caddyAdmin(caddy.admin()).httpPort(caddy.httpPort).httpsPort(caddy.httpsPort)
                .build();
        g.start();
        return g;
    }

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        if (worker != null) {
            worker.close();
        }
        if (deploy != null) {
            deploy.close();
        }
        if (guardian != null) {
            guardian.close();
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
        if (ns != null) {
            try {
                run("ip", "netns", "del", ns);
            } catch (RuntimeException e) {
                // cleanup
            }
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
        await(name + " running", () -> "running".equals(m.admin("GET", "/deployments/" + name, null).json()
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
        guardian.close();
        guardian = startGuardian(root.resolve("guardian-state-new"));
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

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
