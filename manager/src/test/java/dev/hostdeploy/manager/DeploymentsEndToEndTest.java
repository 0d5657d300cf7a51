package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.worker.deploy.GitHubFixture;
import dev.hostdeploy.worker.deploy.SshFixture;
import dev.hostdeploy.worker.deploy.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deployments through the Manager against the real agents in-process: a Worker deploying from a local
 * git daemon with the real dockerd, and a Guardian whose nft runs in a network namespace of this test.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DeploymentsEndToEndTest {
    static final String SECRET = "webhook-secret-for-tests";

    @TempDir
    Path root;
    TestManager m;
    RealHost realHost;
    GitHubFixture github;
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);
    final List<String> projects = new ArrayList<>();
    /** Where a private repo's SSH server listens, once a test starts one (the Worker knows it from the start). */
    int sshPort;

    @BeforeEach
    void start() throws Exception {
        TestImages.ensureBusybox();
        github = new GitHubFixture(root);
        Files.writeString(root.resolve("webhook-secret"), SECRET + "\n");
        m = startManager();
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            sshPort = s.getLocalPort();
        }
        realHost = RealHost.builder("hdd").deploy(SiteFixture.deployOptions(github)
                .gitSshBase(SshFixture.sshBase(sshPort, root.resolve("private/github")))).start(m, root);
        realHost.register(m);
    }

    private TestManager startManager() throws IOException {
        return TestManager.start(root.resolve("manager"), c -> c.allowedOrgs(List.of("acme"))
                .webhookSecretFile(root.resolve("webhook-secret")).deployRecoveryWait(Duration.ofSeconds(90)));
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
    }

    @Test
    void createdDeploymentRunsServesAndItsPublishedPortIsOpenedUntilDeleted() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/site");
        String commit = repo.push("v1", SiteFixture.site("hello " + runId, 0));
        String name = name("site");
        String secret = "s3cret-" + runId;

        var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/site", "host", "lumi",
                "env", Map.of("GREETING", secret)));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        assertThat(created.json().get("state").asText()).isIn("pending", "deploying");
        assertThat(created.json().get("envKeys")).extracting(JsonNode::asText).containsExactly("GREETING");

        JsonNode running = awaitState(name, "running");
        assertThat(running.get("commit").asText()).isEqualTo(commit);
        assertThat(running.get("host").asText()).isEqualTo("lumi");
        int port = publishedPort(running);
        assertThat(get(port)).isEqualTo("200 hello " + runId);
        assertThat(running.at("/lastDeploy/trigger").asText()).isEqualTo("create");
        assertThat(running.at("/lastDeploy/actor").asText()).isEqualTo("admin");
        assertThat(running.at("/lastDeploy/result").asText()).isEqualTo("succeeded");

        // Its port is open in the Guardian's real ruleset, held by the deployment.
        assertThat(openPorts()).contains("[\"tcp\"," + port + "]");
        // Docker may publish IPv4 and IPv6 on different host ports; every all-interface port is opened.
        List<Integer> published = new ArrayList<>();
        running.get("services").forEach(sv -> sv.get("ports").forEach(p -> {
            if (p.has("hostPort")) {
                published.add(p.get("hostPort").asInt());
            }
        }));
        assertThat(running.get("openPorts")).extracting(p -> p.get("port").asInt())
                .containsExactlyInAnyOrderElementsOf(published.stream().distinct().toList());

        // The deploy's history and log; the env value appears nowhere.
        JsonNode history = m.admin("GET", "/deployments/" + name + "/deploys", null).json();
        assertThat(history).hasSize(1);
        var log = m.admin("GET", "/deployments/" + name + "/deploys/" + history.get(0).get("id").asText() + "/log", null);
        assertThat(log.json().get("lines")).isNotEmpty();
        assertThat(log.body()).contains("ports: opened tcp " + port);
        assertThat(log.body() + running + m.admin("GET", "/deployments", null).body()).doesNotContain(secret);
        // At rest the env is sealed: the stored document holds neither the value nor a readable copy.
        var stored = m.manager.store().database().collection("deployments").find().first();
        assertThat(stored.toJson()).doesNotContain(secret);
        assertThat(m.admin("GET", "/deployments?state=running&host=lumi", null).json()).hasSize(1);
        assertThat(m.admin("GET", "/deployments?state=failed", null).json()).isEmpty();
        // The id works wherever the name does.
        assertThat(m.admin("GET", "/deployments/" + running.get("id").asText(), null).json().get("name").asText())
                .isEqualTo(name);

        var deleted = m.admin("DELETE", "/deployments/" + name, null);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        assertThat(m.admin("GET", "/deployments/" + name, null).status()).isEqualTo(404);
        assertThat(openPorts()).doesNotContain("[\"tcp\"," + port + "]");
        assertThat(SiteFixture.dockerPs(name)).isEmpty();
    }

    @Test
    void privateRepoDeploysWithTheManagersDeployKeyWhosePrivateHalfIsNeverShownLoggedOrStoredInClear() throws Exception {
        // Reachable over SSH only (the git daemon does not serve it), like a private GitHub repo.
        GitHubFixture privateRepos = new GitHubFixture(root.resolve("private"));
        PrintStream err = System.out; // the programs log to stdout (protocol's logback.xml)
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeOutputStream(err, logs), true, StandardCharsets.UTF_8));
        try (privateRepos; SshFixture ssh = new SshFixture(root.resolve("sshd"), sshPort)) {
            String commit = privateRepos.create("acme/private-site").push("v1", SiteFixture.site("private " + runId, 0));
            String name = name("priv");

            var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/private-site",
                    "host", "lumi", "private", true));
            assertThat(created.status()).as(created.body()).isEqualTo(202);
            String publicKey = created.json().at("/deployKey/publicKey").asText();
            assertThat(publicKey).matches("ssh-ed25519 AAAA[A-Za-z0-9+/=]+ hostdeploy-" + name);
            // Until the admin adds the key on GitHub, the deploy fails and says why.
            JsonNode failed = awaitState(name, "failed");
            assertThat(failed.get("lastError").asText()).contains("Permission denied");

            ssh.authorize(publicKey);
            assertThat(m.admin("POST", "/deployments/" + name + "/redeploy", null).status()).isEqualTo(202);
            await("the redeploy succeeded").atMost(Duration.ofSeconds(120)).until(() -> deploys(name).size() == 2
                    && "succeeded".equals(deploys(name).get(0).path("result").asText()));
            JsonNode running = get(name);
            assertThat(running.get("commit").asText()).isEqualTo(commit);
            assertThat(get(publishedPort(running))).isEqualTo("200 private " + runId);
            assertThat(running.at("/deployKey/publicKey").asText()).isEqualTo(publicKey);

            // The private key the Manager keeps (sealed) is the one whose public half it showed.
            var stored = m.manager.store().database().collection("deployments").find().first();
            String privateKey = dev.hostdeploy.manager.deployments.SecretBox.open(m.dataDir)
                    .openText(stored.getString("deployKeySealed"), stored.getString("_id") + "/deployKey");
            Path keyFile = root.resolve("check_key");
            Files.writeString(keyFile, privateKey);
            Files.setPosixFilePermissions(keyFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            assertThat(SiteFixture.output(List.of("ssh-keygen", "-y", "-f", keyFile.toString())).trim())
                    .isEqualTo(publicKey.substring(0, publicKey.lastIndexOf(' ')));
            // ...and it appears in no reply, no log line, no deploy log and not in the stored document.
            String body = privateKey.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
            String seen = created.body() + running + m.admin("GET", "/deployments", null).body()
                    + m.admin("GET", "/deployments/" + name + "/deploys/" + deploys(name).get(0).get("id").asText()
                    + "/log", null).body() + m.admin("GET", "/audit?limit=50", null).body() + stored.toJson() + logs;
            assertThat(seen).doesNotContain(body).doesNotContain("OPENSSH PRIVATE KEY");
            assertThat(logs.toString()).contains(publicKey);

            // A rotated key replaces the old one at once: until it is added on GitHub, git is refused.
            var rotated = m.admin("POST", "/deployments/" + name + "/deploy-key", null);
            assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
            String newKey = rotated.json().at("/deployKey/publicKey").asText();
            assertThat(newKey).startsWith("ssh-ed25519 AAAA").isNotEqualTo(publicKey);
            assertThat(rotated.body()).doesNotContain("OPENSSH PRIVATE KEY");
            assertThat(m.admin("POST", "/deployments/" + name + "/redeploy", null).status()).isEqualTo(202);
            await("the redeploy with the unknown key failed").atMost(Duration.ofSeconds(120))
                    .until(() -> deploys(name).size() == 3
                            && "failed".equals(deploys(name).get(0).path("result").asText()));
            ssh.authorize(newKey);
            assertThat(m.admin("POST", "/deployments/" + name + "/redeploy", null).status()).isEqualTo(202);
            await("the redeploy with the new key succeeded").atMost(Duration.ofSeconds(120))
                    .until(() -> deploys(name).size() == 4
                            && "succeeded".equals(deploys(name).get(0).path("result").asText()));
            assertThat(m.admin("DELETE", "/deployments/" + name, null).status()).isEqualTo(204);
        } finally {
            System.setOut(err);
        }
    }

    /** Copies what is written to both streams: the captured log and the real stdout. */
    private static final class TeeOutputStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeOutputStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }

    @Test
    void aGuardianRestartedWithAnEmptyStateGetsTheDeploymentsPortAndTheAdminsPortBack() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/fw");
        repo.push("v1", SiteFixture.site("fw " + runId, 0));
        String name = name("fw");
        assertThat(m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/fw", "host", "lumi")).status())
                .isEqualTo(202);
        int port = publishedPort(awaitState(name, "running"));
        String hostId = m.admin("GET", "/hosts", null).json().get(0).get("id").asText();
        // An admin opens a port by hand through the passthrough, naming no owner: it becomes manual/admin.
        var opened = m.admin("POST", "/hosts/" + hostId + "/agents/guardian/commands",
                Map.of("command", "firewall.open", "data", Map.of("protocol", "tcp", "port", 4444)));
        assertThat(opened.status()).as(opened.body()).isEqualTo(200);
        assertThat(opened.body()).contains("manual/admin");
        await("both open").atMost(Duration.ofSeconds(120)).until(() -> {
            try {
                return openPorts().containsAll(List.of("[\"tcp\"," + port + "]", "[\"tcp\",4444]"));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });

        // The Guardian loses its state and ruleset: a new one on the same address, with an empty state directory.
        realHost.stopGuardian();
        runQuietly("ip", "netns", "exec", realHost.ns, "nft", "delete", "table", "inet", "hostdeploy");
        realHost.startGuardian(root.resolve("guardian-state-2"));

        // On reconnect the Manager puts back the deployment's port and the admin's, each with its owner.
        await("ports restored").atMost(Duration.ofSeconds(120)).until(() -> {
            try {
                return openPorts().containsAll(List.of("[\"tcp\"," + port + "]", "[\"tcp\",4444]"));
            } catch (IOException | RuntimeException e) {
                return false;
            }
        });
        var listed = m.admin("POST", "/hosts/" + hostId + "/agents/guardian/commands",
                Map.of("command", "firewall.list", "data", Map.of()));
        assertThat(listed.body()).contains("deployment/" + name, "manual/admin");
        long applies = m.manager.firewallReconciler().applies();
        // A reconnect to a Guardian that already holds everything sends no apply.
        assertThat(m.manager.firewallReconciler().reconcile(hostId).get(30, TimeUnit.SECONDS)).isFalse();
        assertThat(m.manager.firewallReconciler().applies()).isEqualTo(applies);

        // Closed by hand, it stays closed after the next reconnect.
        m.admin("POST", "/hosts/" + hostId + "/agents/guardian/commands",
                Map.of("command", "firewall.close", "data", Map.of("protocol", "tcp", "port", 4444, "owner", "manual/admin")));
        await("manual record gone").atMost(Duration.ofSeconds(120))
                .until(() -> !m.manager.store().database().collection("firewall_manual").find()
                        .into(new ArrayList<>()).toString().contains("4444"));
        m.manager.firewallReconciler().reconcile(hostId).get(30, TimeUnit.SECONDS);
        assertThat(openPorts()).contains("[\"tcp\"," + port + "]").doesNotContain("[\"tcp\",4444]");
    }

    @Test
    void statsAndMetricsCountDeploymentsByStateAndDeploysByResultWithTheirDuration() throws Exception {
        github.create("acme/counted").push("v1", SiteFixture.site("counted " + runId, 0));
        String name = name("counted");
        m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/counted", "host", "lumi"));
        awaitState(name, "running");
        await("the deploy counted").atMost(Duration.ofSeconds(120))
                .until(() -> m.admin("GET", "/stats", null).json().at("/managed/deploys/succeeded").asLong() == 1);
        JsonNode stats = m.admin("GET", "/stats", null).json();
        assertThat(stats.at("/managed/deployments/running").asLong()).isEqualTo(1);
        String metrics = m.get("/metrics", m.adminToken).body();
        assertThat(metrics).contains("hostdeploy_deployments{state=\"running\"} 1.0",
                "hostdeploy_deployments{state=\"failed\"} 0.0",
                "hostdeploy_deploy_duration_seconds_count{result=\"succeeded\"} 1",
                "hostdeploy_deploy_duration_seconds_count{result=\"failed\"} 0");
    }

    @Test
    void signedWebhookRedeploysAWronglySignedOneChangesNothingAndARepeatedDeliveryDeploysOnce() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/hooked");
        repo.push("v1", SiteFixture.site("one " + runId, 0));
        String name = name("hooked");
        var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/hooked", "host", "lumi",
                "pollInterval", 0));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        int port = publishedPort(awaitState(name, "running"));
        assertThat(get(port)).isEqualTo("200 one " + runId);

        assertThat(webhook("ping", UUID.randomUUID().toString(), "{\"zen\":\"hi\"}", "application/json", true).status())
                .isEqualTo(200);

        String two = repo.push("v2", SiteFixture.site("two " + runId, 0));
        String push = pushPayload("acme/hooked", "refs/heads/main", two);
        var forged = webhook("push", UUID.randomUUID().toString(), push, "application/json", false);
        assertThat(forged.status()).isEqualTo(401);
        var unsigned = TestManager.send(HttpRequest.newBuilder(URI.create(m.url("/webhooks/github")))
                .header("X-GitHub-Event", "push").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(push)));
        assertThat(unsigned.status()).isEqualTo(401);
        assertThat(deploys(name)).as("refused deliveries deploy nothing").hasSize(1);

        String delivery = UUID.randomUUID().toString();
        var accepted = webhook("push", delivery, push, "application/json", true);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        assertThat(accepted.json().get("redeploying")).extracting(JsonNode::asText).containsExactly(name);
        await("the pushed commit deployed").atMost(Duration.ofSeconds(120))
                .until(() -> two.equals(get(name).path("commit").asText())
                        && "running".equals(get(name).path("state").asText()));
        assertThat(get(port(name))).isEqualTo("200 two " + runId);
        JsonNode history = deploys(name);
        assertThat(history).hasSize(2);
        assertThat(history.get(0).get("trigger").asText()).isEqualTo("webhook");
        assertThat(history.get(0).get("actor").asText()).isEqualTo("delivery/" + delivery);

        var again = webhook("push", delivery, push, "application/json", true);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("outcome").asText()).isEqualTo("duplicate");

        // A form-encoded delivery: the signature covers the raw form bytes.
        String three = repo.push("v3", SiteFixture.site("three " + runId, 0));
        String form = "payload=" + URLEncoder.encode(pushPayload("ACME/Hooked", "refs/heads/main", three),
                StandardCharsets.UTF_8);
        var formed = webhook("push", UUID.randomUUID().toString(), form, "application/x-www-form-urlencoded", true);
        assertThat(formed.status()).as(formed.body()).isEqualTo(202);
        await("the form-delivered commit deployed").atMost(Duration.ofSeconds(120))
                .until(() -> three.equals(get(name).path("commit").asText())
                        && "running".equals(get(name).path("state").asText()));
        assertThat(deploys(name)).as("the repeated delivery deployed nothing").hasSize(3);

        // Only validly signed deliveries are audited.
        JsonNode audit = m.admin("GET", "/audit", null).json();
        long audited = 0;
        for (JsonNode e : audit) {
            if (e.get("action").asText().equals("webhook.github")) {
                audited++;
            }
        }
        assertThat(audited).isEqualTo(4);
    }

    @Test
    void badRequestsAreRefusedBeforeAnyAgentIsAskedAndMembersMayOnlyRead() throws Exception {
        var outside = m.admin("POST", "/deployments", Map.of("name", "x", "repo", "evil/site", "host", "lumi"));
        assertThat(outside.status()).as(outside.body()).isEqualTo(422);
        assertThat(outside.json().at("/error/code").asText()).isEqualTo("not_allowed");
        assertThat(outside.json().at("/error/details/field").asText()).isEqualTo("repo");
        assertThat(outside.json().at("/error/details/rule").asText()).isEqualTo("allowed-org");

        var badName = m.admin("POST", "/deployments", Map.of("name", "Bad_Name", "repo", "acme/site", "host", "lumi"));
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.json().at("/error/details/field").asText()).isEqualTo("name");
        var badPath = m.admin("POST", "/deployments", Map.of("name", "ok", "repo", "acme/site", "host", "lumi",
                "composePath", "../../etc/passwd"));
        assertThat(badPath.status()).isEqualTo(400);
        assertThat(badPath.json().at("/error/details/field").asText()).isEqualTo("composePath");
        var badRef = m.admin("POST", "/deployments", Map.of("name", "ok", "repo", "acme/site", "host", "lumi",
                "ref", "-x"));
        assertThat(badRef.json().at("/error/details/field").asText()).isEqualTo("ref");
        var badPoll = m.admin("POST", "/deployments", Map.of("name", "ok", "repo", "acme/site", "host", "lumi",
                "pollInterval", 2));
        assertThat(badPoll.json().at("/error/details/field").asText()).isEqualTo("pollInterval");
        assertThat(m.admin("POST", "/deployments", Map.of("name", "ok", "repo", "acme/site", "host", "nope")).status())
                .isEqualTo(404);

        String member = m.userToken("mia", "member");
        var denied = m.post("/deployments", member, Map.of("name", "ok", "repo", "acme/site", "host", "lumi"));
        assertThat(denied.status()).isEqualTo(403);
        assertThat(m.get("/deployments", member).status()).isEqualTo(200);
        assertThat(m.admin("GET", "/deployments", null).json()).as("nothing was created").isEmpty();
    }

    @Test
    void aDeployInterruptedByAManagerRestartTakesTheOutcomeTheWorkerReports() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/slow");
        String commit = repo.push("v1", SiteFixture.site("slow " + runId, 6));
        String name = name("slow");
        var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/slow", "host", "lumi",
                "pollInterval", 0));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        await("the deploy under way").atMost(Duration.ofSeconds(120)).until(() -> {
            JsonNode h = deploys(name);
            if (h.isEmpty()) {
                return false;
            }
            JsonNode log = m.admin("GET", "/deployments/" + name + "/deploys/" + h.get(0).get("id").asText() + "/log",
                    null).json();
            return log.get("lines").toString().contains("compose");
        });
        m.close();
        m = null;

        m = startManager();
        JsonNode running = awaitState(name, "running");
        assertThat(running.get("commit").asText()).isEqualTo(commit);
        JsonNode history = deploys(name);
        assertThat(history).hasSize(1);
        assertThat(history.get(0).get("result").asText()).isEqualTo("succeeded");
        var log = m.admin("GET", "/deployments/" + name + "/deploys/" + history.get(0).get("id").asText() + "/log", null);
        assertThat(log.body()).contains("the Manager restarted during this deploy; the worker reports: running");
        assertThat(get(publishedPort(running))).isEqualTo("200 slow " + runId);
        assertThat(openPorts()).contains("[\"tcp\"," + publishedPort(running) + "]");
    }

    @Test
    void thePollerDeploysAPushAndARollbackStaysUntilTheBranchMoves() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/polled");
        String one = repo.push("v1", SiteFixture.site("p1 " + runId, 0));
        String name = name("polled");
        var created = m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/polled", "host", "lumi",
                "pollInterval", 5));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        awaitState(name, "running");

        String two = repo.push("v2", SiteFixture.site("p2 " + runId, 0));
        await("the poller deploys the push").atMost(Duration.ofSeconds(120))
                .until(() -> two.equals(get(name).path("commit").asText())
                        && "running".equals(get(name).path("state").asText()));
        assertThat(get(port(name))).isEqualTo("200 p2 " + runId);
        assertThat(deploys(name).get(0).get("trigger").asText()).isEqualTo("poll");

        var rollback = m.admin("POST", "/deployments/" + name + "/rollback", null);
        assertThat(rollback.status()).as(rollback.body()).isEqualTo(202);
        await("rolled back").atMost(Duration.ofSeconds(120)).until(() -> one.equals(get(name).path("commit").asText())
                && "running".equals(get(name).path("state").asText()));
        assertThat(get(port(name))).isEqualTo("200 p1 " + runId);
        assertThat(deploys(name).get(0).get("trigger").asText()).isEqualTo("rollback");
        // An absence can only be watched for a while: two poll intervals leave the rollback in place.
        await("the rollback left in place").during(Duration.ofSeconds(11)).atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                    assertThat(get(name).get("commit").asText()).isEqualTo(one);
                    assertThat(deploys(name)).hasSize(3);
                });

        String three = repo.push("v3", SiteFixture.site("p3 " + runId, 0));
        await("the poller deploys the next push").atMost(Duration.ofSeconds(120))
                .until(() -> three.equals(get(name).path("commit").asText())
                        && "running".equals(get(name).path("state").asText()));
        assertThat(get(port(name))).isEqualTo("200 p3 " + runId);
    }

    @Test
    void stopClosesThePortsStartReopensThemAndAnEnvPatchRedeploys() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/paused");
        repo.push("v1", SiteFixture.site("paused " + runId, 0));
        String name = name("paused");
        m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/paused", "host", "lumi", "pollInterval", 0));
        int port = publishedPort(awaitState(name, "running"));
        assertThat(openPorts()).contains("[\"tcp\"," + port + "]");

        var stopped = m.admin("POST", "/deployments/" + name + "/stop", null);
        assertThat(stopped.status()).as(stopped.body()).isEqualTo(200);
        assertThat(stopped.json().get("state").asText()).isEqualTo("stopped");
        assertThat(openPorts()).doesNotContain("[\"tcp\"," + port + "]");

        var started = m.admin("POST", "/deployments/" + name + "/start", null);
        assertThat(started.status()).as(started.body()).isEqualTo(200);
        assertThat(started.json().get("state").asText()).isEqualTo("running");
        int again = publishedPort(started.json());
        assertThat(openPorts()).contains("[\"tcp\"," + again + "]");
        assertThat(get(again)).isEqualTo("200 paused " + runId);

        var logs = m.admin("GET", "/deployments/" + name + "/logs?tail=10", null);
        assertThat(logs.status()).as(logs.body()).isEqualTo(200);
        assertThat(logs.json().get("name").asText()).isEqualTo(name);

        var poll = m.admin("PATCH", "/deployments/" + name, Map.of("pollInterval", 30));
        assertThat(poll.status()).as(poll.body()).isEqualTo(200);
        assertThat(poll.json().get("pollInterval").asInt()).isEqualTo(30);
        var env = m.admin("PATCH", "/deployments/" + name, Map.of("env", Map.of("GREETING", "patched-" + runId)));
        assertThat(env.status()).as(env.body()).isEqualTo(200);
        assertThat(env.body()).doesNotContain("patched-" + runId);
        await("the env change deployed").atMost(Duration.ofSeconds(120)).until(() -> deploys(name).size() == 2
                && "succeeded".equals(deploys(name).get(0).path("result").asText()));
        assertThat(deploys(name).get(0).get("trigger").asText()).isEqualTo("manual");
        var badPatch = m.admin("PATCH", "/deployments/" + name, Map.of("ref", "-x"));
        assertThat(badPatch.json().at("/error/details/field").asText()).isEqualTo("ref");
    }

    @Test
    void aClientFollowingMidDeployGetsTheLinesSoFarThenTheLiveOnesAndTheNewState() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/watched");
        repo.push("v1", SiteFixture.site("watched " + runId, 4));
        String name = name("watched");
        m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/watched", "host", "lumi", "pollInterval", 0));
        String[] firstLine = new String[1];
        await("the deploy under way").atMost(Duration.ofSeconds(120)).until(() -> {
            JsonNode h = deploys(name);
            if (h.isEmpty()) {
                return false;
            }
            JsonNode lines = m.admin("GET", "/deployments/" + name + "/deploys/" + h.get(0).get("id").asText() + "/log",
                    null).json().get("lines");
            if (lines.isEmpty()) {
                return false;
            }
            firstLine[0] = lines.get(0).asText();
            return true;
        });

        var stream = TestManager.HTTP.send(HttpRequest.newBuilder(URI.create(m.url("/deployments/" + name + "/events")))
                .header("Accept", "text/event-stream")
                .header("Authorization", "Bearer " + m.userToken("viewer", "member")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertThat(stream.statusCode()).isEqualTo(200);
        List<String> seen = new ArrayList<>();
        try (var lines = stream.body()) {
            var it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                seen.add(line);
                if (line.startsWith("data:") && line.contains("\"state\":\"running\"")) {
                    break;
                }
            }
        }
        String all = String.join("\n", seen);
        assertThat(all).as("the lines so far come first").contains(Json.MAPPER.writeValueAsString(firstLine[0]));
        assertThat(all).contains("event: line").contains("event: state").contains("\"state\":\"running\"");
        assertThat(all.indexOf(Json.MAPPER.writeValueAsString(firstLine[0]))).isLessThan(all.indexOf("event: state"));
    }

    @Test
    void aPollCycleOnDemandAsksEveryPolledDeploymentOnceAndRedeploysOnlyAChangedOne() throws Exception {
        GitHubFixture.Repo repo = github.create("acme/polled-now");
        repo.push("v1", SiteFixture.site("one " + runId, 0));
        String name = name("pollnow");
        assertThat(m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/polled-now", "host", "lumi",
                "pollInterval", 86_400)).status()).isEqualTo(202);
        awaitState(name, "running");
        assertThat(m.post("/deployments/poll", m.userToken("mia", "member"), null).status()).isEqualTo(403);

        var unchanged = m.admin("POST", "/deployments/poll", null);
        assertThat(unchanged.status()).as(unchanged.body()).isEqualTo(200);
        assertThat(unchanged.json().get("polled").asInt()).isEqualTo(1);
        assertThat(unchanged.json().get("changed").asInt()).isZero();
        assertThat(deploys(name)).hasSize(1);

        String second = repo.push("v2", SiteFixture.site("two " + runId, 0));
        var changed = m.admin("POST", "/deployments/poll", null).json();
        assertThat(changed.get("changed").asInt()).isEqualTo(1);
        await("the new commit deployed").atMost(Duration.ofSeconds(120))
                .until(() -> second.equals(get(name).path("commit").asText())
                        && "running".equals(get(name).path("state").asText()));
        assertThat(deploys(name).get(0).get("trigger").asText()).isEqualTo("poll");
        assertThat(get(publishedPort(get(name)))).isEqualTo("200 two " + runId);
    }

    @Test
    void followingTheLogsStreamsTheTailThenEachNewLineOnceUntilTheClientLeaves() throws Exception {
        github.create("acme/ticker").push("v1", Map.of("docker-compose.yml", """
                services:
                  ticker:
                    image: %s
                    stop_signal: SIGKILL
                    command: ["sh", "-c", "i=0; while true; do echo tick $$i; i=$$((i+1)); sleep 0.2; done"]
                """.formatted(TestImages.BUSYBOX)));
        String name = name("ticker");
        assertThat(m.admin("POST", "/deployments", Map.of("name", name, "repo", "acme/ticker", "host", "lumi"))
                .status()).isEqualTo(202);
        awaitState(name, "running");
        String member = m.userToken("viewer", "member");
        // Refused before any stream opens: not asking for an event stream, a bad tail.
        assertThat(TestManager.send(HttpRequest.newBuilder(URI.create(m.url("/deployments/" + name + "/logs?follow=true")))
                .header("Authorization", "Bearer " + member)).status()).isEqualTo(406);
        var bad = TestManager.send(HttpRequest.newBuilder(URI.create(m.url("/deployments/" + name + "/logs?follow=true&tail=0")))
                .header("Accept", "text/event-stream").header("Authorization", "Bearer " + member));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("tail");

        var stream = TestManager.HTTP.send(HttpRequest.newBuilder(
                        URI.create(m.url("/deployments/" + name + "/logs?follow=true&tail=3")))
                .header("Accept", "text/event-stream").header("Authorization", "Bearer " + member).build(),
                java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertThat(stream.statusCode()).isEqualTo(200);
        List<Integer> ticks = new ArrayList<>();
        try (var lines = stream.body()) {
            var it = lines.iterator();
            while (ticks.size() < 20 && it.hasNext()) {
                String line = it.next();
                if (line.startsWith("data:")) {
                    JsonNode l = Json.MAPPER.readTree(line.substring(5));
                    assertThat(l.get("service").asText()).isEqualTo("ticker");
                    assertThat(l.get("time").asText()).endsWith("Z");
                    ticks.add(Integer.parseInt(l.get("line").asText().substring("tick ".length())));
                }
            }
        }
        // The tail of 3, then lines written after the stream opened (20 at 5 a second take some polls),
        // each exactly once and none missed: consecutive numbers.
        assertThat(ticks).hasSize(20);
        for (int i = 1; i < ticks.size(); i++) {
            assertThat(ticks.get(i)).as("tick after %s in %s", ticks.get(i - 1), ticks).isEqualTo(ticks.get(i - 1) + 1);
        }
    }

    // ---- helpers ----

    private String name(String base) {
        String n = base + "-" + runId;
        projects.add(n);
        return n;
    }

    private JsonNode get(String name) {
        return m.admin("GET", "/deployments/" + name, null).json();
    }

    private JsonNode deploys(String name) {
        return m.admin("GET", "/deployments/" + name + "/deploys", null).json();
    }

    private int port(String name) {
        return publishedPort(get(name));
    }

    private JsonNode awaitState(String name, String state) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        try {
            await(name + " " + state).atMost(Duration.ofSeconds(120)).until(() -> {
                JsonNode now = get(name);
                last.set(now);
                if (!state.equals("failed") && "failed".equals(now.path("state").asText())) {
                    throw new AssertionError("deploy failed: " + now);
                }
                return state.equals(now.path("state").asText());
            });
        } catch (AssertionError | ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "; last: " + last.get(), e);
        }
        return last.get();
    }

    private static int publishedPort(JsonNode deployment) {
        for (JsonNode s : deployment.get("services")) {
            for (JsonNode p : s.get("ports")) {
                if (p.get("containerPort").asInt() == 8080 && p.has("hostPort")) {
                    return p.get("hostPort").asInt();
                }
            }
        }
        throw new AssertionError("no published port in " + deployment);
    }

    private static String get(int port) throws Exception {
        var r = TestManager.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/index.html"))
                .timeout(Duration.ofSeconds(5)));
        return r.status() + " " + r.body().trim();
    }

    private TestManager.Response webhook(String event, String delivery, String body, String type, boolean sign)
            throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec((sign ? SECRET : "wrong").getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return TestManager.send(HttpRequest.newBuilder(URI.create(m.url("/webhooks/github")))
                .header("X-GitHub-Event", event).header("X-GitHub-Delivery", delivery).header("Content-Type", type)
                .header("X-Hub-Signature-256", "sha256=" + HexFormat.of().formatHex(mac.doFinal(bytes)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    }

    private static String pushPayload(String repo, String ref, String after) throws IOException {
        return Json.MAPPER.writeValueAsString(Map.of("ref", ref, "after", after,
                "repository", Map.of("full_name", repo, "private", false)));
    }

    /** The open_ports set of the Guardian's real ruleset, each element as compact JSON. */
    private List<String> openPorts() throws IOException {
        JsonNode nft = Json.MAPPER.readTree(realHost.nft("-j", "list", "table", "inet", "hostdeploy"));
        List<String> out = new ArrayList<>();
        for (JsonNode item : nft.path("nftables")) {
            JsonNode s = item.path("set");
            if (s.path("name").asText().equals("open_ports")) {
                for (JsonNode e : s.path("elem")) {
                    JsonNode v = e.has("elem") ? e.get("elem").get("val") : e;
                    out.add((v.has("concat") ? v.get("concat") : v).toString());
                }
            }
        }
        return out;
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void runQuietly(String... cmd) {
        try {
            run(cmd);
        } catch (RuntimeException e) {
            // cleanup
        }
    }
}
