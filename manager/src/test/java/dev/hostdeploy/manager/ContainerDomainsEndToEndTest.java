package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * Members' container domains end to end: the Manager with a real Worker (real LXD, hd-busybox serving
 * with busybox httpd) and a real Guardian (nft in a namespace) driving a real Caddy on loopback with
 * {@code tls internal}; the domain is read as a user would, with curl and Caddy's root.
 */
@Timeout(300)
class ContainerDomainsEndToEndTest {
    static final String BUSYBOX = "hd-busybox";
    static final String SUFFIX = "members.test";

    @TempDir
    Path root;
    TestManager m;
    CaddyFixture caddy;
    RealHost realHost;
    int portMin;
    final List<String> prefixes = new ArrayList<>();
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);

    @BeforeEach
    void start() throws Exception {
        // Ranges of their own, below the ephemeral ports, so a run beside others never meets their ports.
        portMin = 23_000 + ThreadLocalRandom.current().nextInt(90) * 100;
        caddy = new CaddyFixture();
        m = TestManager.start(root.resolve("manager"), this::tweak);
        realHost = RealHost.builder("hdd").caddy(caddy).deploy(new DeployOptions())
                .lxc(new LxcOptions(List.of(BUSYBOX), root.resolve("lxc-backups"), 2, null)).start(m, root);
        realHost.register(m);
    }

    private ManagerConfig tweak(ManagerConfig c) {
        return c.sshPortRange(portMin, portMin + 9).memberDomainSuffix(SUFFIX)
                .memberHttpPortRange(portMin + 50, portMin + 59).domainTls("internal").allowedOrgs(List.of("acme"))
                .deployRecoveryWait(Duration.ofSeconds(60));
    }

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        String list = runResult("lxc", "list", "--format", "csv", "-c", "n");
        for (String name : list.lines().map(String::strip).toList()) {
            if (prefixes.stream().anyMatch(name::startsWith)) {
                runResult("lxc", "delete", "--force", name);
            }
        }
        if (realHost != null) {
            realHost.close();
        }
        if (caddy != null) {
            caddy.close();
        }
    }

    @Test
    void aMembersDomainServesTheirContainerOverHttpsWhileOthersGet404AndTakenNamesQuotaAndDeleteHold() throws Exception {
        String alice = m.userToken("alice", "member");
        String bob = m.userToken("bob", "member");
        String aliceId = m.get("/me", alice).json().get("id").asText();
        String bobId = m.get("/me", bob).json().get("id").asText();
        prefixes.add("m-" + aliceId.substring(0, 8) + "-");
        prefixes.add("m-" + bobId.substring(0, 8) + "-");
        Path key = root.resolve("id_alice");
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key.toString());
        List<String> keys = List.of(Files.readString(root.resolve("id_alice.pub")));
        var created = m.post("/containers", alice, Map.of("name", "web", "image", BUSYBOX, "sshKeys", keys));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        var bobs = m.post("/containers", bob, Map.of("name", "site", "image", BUSYBOX, "sshKeys", keys));
        assertThat(bobs.status()).as(bobs.body()).isEqualTo(202);
        String bobContainer = bobs.json().get("id").asText();
        await("the containers running").atMost(Duration.ofSeconds(180))
                .until(() -> "running".equals(m.get("/containers/" + id, alice).json().path("state").asText())
                        && "running".equals(m.get("/containers/" + bobContainer, bob).json().path("state").asText()));
        String instance = "m-" + aliceId.substring(0, 8) + "-web";
        String content = "hello " + runId;
        run("lxc", "exec", instance, "--", "sh", "-c",
                "mkdir -p /www && echo '" + content + "' > /www/index.html && httpd -p 8080 -h /www");
        // Taken before the domain exists: restoring it must not lose the domain's port forward.
        var snap = m.post("/containers/" + id + "/snapshots", alice, Map.of("name", "before"));
        assertThat(snap.status()).as(snap.body()).isEqualTo(201);

        // Bad input is named; another member's container is 404 whatever they ask.
        var bad = m.post("/containers/" + id + "/domains", alice, Map.of("name", "a b", "port", 8080));
        assertThat(bad.status()).as(bad.body()).isEqualTo(400);
        assertThat(bad.json().at("/error/details/field").asText()).isEqualTo("name");
        var badPort = m.post("/containers/" + id + "/domains", alice, Map.of("name", "blog", "port", 0));
        assertThat(badPort.json().at("/error/details/field").asText()).isEqualTo("port");
        assertThat(m.post("/containers/" + id + "/domains", bob, Map.of("name", "blog", "port", 8080)).status())
                .isEqualTo(404);

        var added = m.post("/containers/" + id + "/domains", alice, Map.of("name", "Blog", "port", 8080));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        String host = "blog." + SUFFIX;
        assertThat(added.json().get("hostname").asText()).isEqualTo(host);
        assertThat(added.json().get("url").asText()).isEqualTo("https://" + host);
        caddy.awaitHttps(host, content + "\n", Duration.ofSeconds(60));

        assertThat(m.get("/containers/" + id + "/domains", alice).json()).hasSize(1);
        assertThat(m.get("/containers/" + id + "/domains", bob).status()).isEqualTo(404);
        assertThat(m.delete("/containers/" + id + "/domains/blog", bob).status()).isEqualTo(404);
        JsonNode usage = m.get("/me/usage", alice).json();
        assertThat(usage.at("/domains/used").asInt()).isEqualTo(1);
        assertThat(usage.at("/domains/limit").asInt()).isEqualTo(3);
        JsonNode routes = m.admin("GET", "/ingress", null).json();
        assertThat(routes).hasSize(1);
        assertThat(routes.at("/0/owner").asText()).isEqualTo("container/" + id);
        assertThat(routes.at("/0/upstream").asText()).startsWith("127.0.0.1:");

        // A hostname taken is 409, for another container or a deployment alike; over the quota is 409
        // quota_exceeded; none of them leaves anything behind.
        var taken = m.post("/containers/" + id + "/domains", alice, Map.of("name", "blog", "port", 8080));
        assertThat(taken.status()).as(taken.body()).isEqualTo(409);
        assertThat(taken.body()).contains(host);
        var takenByBob = m.post("/containers/" + bobContainer + "/domains", bob, Map.of("name", "blog", "port", 80));
        assertThat(takenByBob.status()).as(takenByBob.body()).isEqualTo(409);
        var deployment = m.admin("POST", "/deployments", Map.of("name", "thief", "repo", "acme/site", "host", "lumi",
                "domains", List.of(Map.of("host", host, "service", "web", "port", 8080))));
        assertThat(deployment.status()).as(deployment.body()).isEqualTo(409);
        assertThat(m.admin("GET", "/deployments/thief", null).status()).isEqualTo(404);
        assertThat(m.admin("PATCH", "/users/" + aliceId, Map.of("quota", Map.of("domains", 1))).status()).isEqualTo(200);
        var over = m.post("/containers/" + id + "/domains", alice, Map.of("name", "shop", "port", 8080));
        assertThat(over.status()).as(over.body()).isEqualTo(409);
        assertThat(over.json().at("/error/code").asText()).isEqualTo("quota_exceeded");
        assertThat(over.json().at("/error/details/limit").asText()).isEqualTo("domains");
        assertThat(m.get("/containers/" + id + "/domains", alice).json()).hasSize(1);

        // A Guardian that lost its state gets the container's route back when it reconnects.
        realHost.stopGuardian();
        realHost.startGuardian(root.resolve("guardian-state-new"));
        caddy.awaitHttps(host, content + "\n", Duration.ofSeconds(60));

        // A snapshot from before the domain existed, restored, keeps the domain's forward.
        var restored = m.post("/containers/" + id + "/snapshots/before/restore", alice, null);
        assertThat(restored.status()).as(restored.body()).isEqualTo(200);
        run("lxc", "exec", instance, "--", "sh", "-c", "pgrep httpd || httpd -p 8080 -h /www");
        caddy.awaitHttps(host, content + "\n", Duration.ofSeconds(60));

        // Removing the domain removes the route and the forward; the name can be had again.
        assertThat(m.delete("/containers/" + id + "/domains/blog", alice).status()).isEqualTo(204);
        assertThat(caddy.https(host)).isNull();
        assertThat(run("lxc", "config", "device", "list", instance)).doesNotContain("hostdeploy-port-");
        assertThat(m.get("/containers/" + id + "/domains", alice).json()).isEmpty();
        var again = m.post("/containers/" + id + "/domains", alice, Map.of("name", "blog", "port", 8080));
        assertThat(again.status()).as(again.body()).isEqualTo(201);
        caddy.awaitHttps(host, content + "\n", Duration.ofSeconds(60));

        // A member who leaves loses their containers' domains with the rest (the route, then the claim).
        var bobsDomain = m.post("/containers/" + bobContainer + "/domains", bob, Map.of("name", "bobsite", "port", 80));
        assertThat(bobsDomain.status()).as(bobsDomain.body()).isEqualTo(201);
        assertThat(m.admin("GET", "/ingress", null).json()).hasSize(2);
        assertThat(m.admin("DELETE", "/users/" + bobId, null).status()).isEqualTo(204);
        await("bob's domain removed").atMost(Duration.ofSeconds(60))
                .until(() -> m.admin("GET", "/ingress", null).json().size() == 1);
        assertThat(m.admin("GET", "/ingress", null).json().at("/0/host").asText()).isEqualTo(host);

        // Deleting the container removes its route and releases the hostname.
        assertThat(m.delete("/containers/" + id, alice).status()).isEqualTo(202);
        await("the container deleted").atMost(Duration.ofSeconds(120))
                .until(() -> m.get("/containers/" + id, alice).status() == 404);
        assertThat(caddy.https(host)).isNull();
        assertThat(m.admin("GET", "/ingress", null).json()).isEmpty();
    }

    @Test
    void aDomainWhoseRollbackCouldNotFinishIsRemovedAtTheNextStart() throws Exception {
        String carol = m.userToken("carol", "member");
        String carolId = m.get("/me", carol).json().get("id").asText();
        prefixes.add("m-" + carolId.substring(0, 8) + "-");
        Path key = root.resolve("id_carol");
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carol", "-f", key.toString());
        var created = m.post("/containers", carol, Map.of("name", "box", "image", BUSYBOX,
                "sshKeys", List.of(Files.readString(root.resolve("id_carol.pub")))));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        await("the container running").atMost(Duration.ofSeconds(180))
                .until(() -> "running".equals(m.get("/containers/" + id, carol).json().path("state").asText()));
        String instance = "m-" + carolId.substring(0, 8) + "-box";

        // The Guardian is away: the route cannot be set, nor the claim's rollback finished.
        realHost.stopGuardian();
        String hostId = m.admin("GET", "/hosts", null).json().get(0).get("id").asText();
        await("the guardian disconnected").atMost(Duration.ofSeconds(30))
                .until(() -> !m.admin("GET", "/hosts/" + hostId, null).json().at("/guardian/connected").asBoolean());
        var failed = m.post("/containers/" + id + "/domains", carol, Map.of("name", "late", "port", 8080));
        assertThat(failed.status()).as(failed.body()).isGreaterThanOrEqualTo(500);
        JsonNode left = m.get("/containers/" + id + "/domains", carol).json();
        assertThat(left).hasSize(1);
        assertThat(left.at("/0/pending").asBoolean()).isTrue();
        assertThat(m.get("/containers/" + id + "/operations", carol).json().at("/0/steps").toString())
                .contains("rollback incomplete");

        // The next start removes it: the port forward, the host port, the claim.
        m.close();
        m = null;
        realHost.startGuardian(root.resolve("guardian-state"));
        m = TestManager.start(root.resolve("manager"), this::tweak);
        await("the pending domain removed").atMost(Duration.ofSeconds(90))
                .until(() -> m.get("/containers/" + id + "/domains", carol).json().isEmpty());
        assertThat(run("lxc", "config", "device", "list", instance)).doesNotContain("hostdeploy-port-");
        assertThat(m.get("/containers/" + id + "/operations", carol).json().at("/0/steps").toString())
                .contains("the Manager restarted while late." + SUFFIX + " was being changed");
        var again = m.post("/containers/" + id + "/domains", carol, Map.of("name", "late", "port", 8080));
        assertThat(again.status()).as(again.body()).isEqualTo(201);
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static String runResult(String... cmd) {
        try {
            return run(cmd);
        } catch (Exception e) {
            return "";
        }
    }
}
