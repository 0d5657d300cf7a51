package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members' containers end to end: the Manager with a real Worker (the real LXD, the test images hd-debian
 * with OpenSSH and hd-busybox) and a real Guardian whose nft runs in a network namespace this test makes.
 * Asserts what a member sees: the API, an SSH login, and the Guardian's ruleset.
 */
@Timeout(300)
class ContainersEndToEndTest {
    static final String DEBIAN = "hd-debian";
    static final String BUSYBOX = "hd-busybox";

    @TempDir
    Path root;
    TestManager m;
    RealHost realHost;
    int portMin;
    final List<String> prefixes = new ArrayList<>();
    final List<String> handMade = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        // A range of its own, so a run beside others never meets their ports; below the ephemeral ports
        // (32768 up), which outgoing connections take.
        portMin = 23_000 + ThreadLocalRandom.current().nextInt(90) * 100;
        m = TestManager.start(root.resolve("manager"), this::tweak);
        // The deploy module too: host.stats (free memory, for placement) is its command.
        realHost = RealHost.builder("hdc").deploy(new DeployOptions())
                .lxc(new LxcOptions(List.of(DEBIAN, BUSYBOX), root.resolve("lxc-backups"), 2, null)).start(m, root);
    }

    private ManagerConfig tweak(ManagerConfig c) {
        // No grace: an offboarded member's containers are due at once (the purge is called by the test).
        return c.sshPortRange(portMin, portMin + 19).maxContainersPerMember(3).deployRecoveryWait(Duration.ofSeconds(60))
                .memberGrace(Duration.ZERO);
    }

    @AfterEach
    void stop() {
        if (m != null) {
            m.close();
        }
        String list = runResult("lxc", "list", "--format", "csv", "-c", "n");
        for (String name : list.lines().map(String::strip).toList()) {
            if (prefixes.stream().anyMatch(name::startsWith) || handMade.contains(name)) {
                runResult("lxc", "delete", "--force", name);
            }
        }
        if (realHost != null) {
            realHost.close();
        }
    }

    @Test
    void memberLogsInOverSshToTheContainerTheyAskedForWhileOthersGet404AndQuotaAndDeleteHold() throws Exception {
        realHost.register(m);
        Member alice = member("alice");
        Member bob = member("bob");
        Path key = keygen("alice");
        var put = m.put("/me/keys", alice.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(m.get("/me/keys", alice.token).json().get("keys")).hasSize(1);
        var badKey = m.put("/me/keys", alice.token, Map.of("keys", List.of("ssh-rsa AAAA")));
        assertThat(badKey.status()).isEqualTo(400);
        assertThat(badKey.json().at("/error/details/field").asText()).isEqualTo("keys[0]");

        var created = m.post("/containers", alice.token, Map.of("name", "dev", "image", DEBIAN, "size", "small"));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        assertThat(created.json().get("state").asText()).isEqualTo("creating");
        String id = created.json().get("id").asText();
        JsonNode c = awaitState(alice, id, "running");
        int port = c.at("/ssh/port").asInt();
        assertThat(port).isBetween(portMin, portMin + 19);
        assertThat(c.at("/ssh/host").asText()).isEqualTo("127.0.0.1");
        assertThat(c.at("/ssh/command").asText()).isEqualTo("ssh -p " + port + " root@127.0.0.1");
        assertThat(c.get("owner").asText()).isEqualTo("alice");

        Result login = ssh(key, port, "hostname");
        assertThat(login.code()).as(login.out()).isZero();
        assertThat(login.out().strip()).isEqualTo(alice.instance("dev"));
        assertThat(openPorts()).contains("[\"tcp\"," + port + "]");

        // Bob sees nothing of it: 404, never 403.
        assertThat(m.get("/containers/" + id, bob.token).status()).isEqualTo(404);
        assertThat(m.delete("/containers/" + id, bob.token).status()).isEqualTo(404);
        assertThat(m.post("/containers/" + id + "/stop", bob.token, null).status()).isEqualTo(404);
        assertThat(m.get("/containers", bob.token).json()).isEmpty();
        assertThat(m.admin("GET", "/containers", null).json()).hasSize(1);

        // Names are unique per member, not across members; bad input is named before any agent is asked.
        var same = m.post("/containers", alice.token, Map.of("name", "dev", "image", BUSYBOX));
        assertThat(same.status()).as(same.body()).isEqualTo(409);
        var badSize = m.post("/containers", alice.token, Map.of("name", "x", "image", BUSYBOX, "size", "huge"));
        assertThat(badSize.status()).isEqualTo(400);
        assertThat(badSize.json().at("/error/details/field").asText()).isEqualTo("size");
        var badName = m.post("/containers", alice.token, Map.of("name", "Dev!", "image", BUSYBOX));
        assertThat(badName.json().at("/error/details/field").asText()).isEqualTo("name");
        var noKeys = m.post("/containers", bob.token, Map.of("name", "dev", "image", BUSYBOX));
        assertThat(noKeys.status()).isEqualTo(400);
        assertThat(noKeys.json().at("/error/details/field").asText()).isEqualTo("sshKeys");
        var noImage = m.post("/containers", alice.token, Map.of("name", "other", "image", "not-allowed"));
        assertThat(noImage.status()).isEqualTo(503);
        assertThat(noImage.json().at("/error/code").asText()).isEqualTo("no_capacity");
        assertThat(noImage.json().at("/error/details/source").asText()).isEqualTo("manager");

        // An admin's override: one container at most.
        var quota = m.admin("PATCH", "/users/" + alice.id, Map.of("quota", Map.of("containers", 1)));
        assertThat(quota.status()).as(quota.body()).isEqualTo(200);
        var over = m.post("/containers", alice.token, Map.of("name", "second", "image", BUSYBOX));
        assertThat(over.status()).as(over.body()).isEqualTo(409);
        assertThat(over.json().at("/error/code").asText()).isEqualTo("quota_exceeded");
        assertThat(over.json().at("/error/details/limit").asText()).isEqualTo("containers");
        JsonNode usage = m.get("/me/usage", alice.token).json();
        assertThat(usage.at("/containers/used").asInt()).isEqualTo(1);
        assertThat(usage.at("/containers/limit").asInt()).isEqualTo(1);
        assertThat(usage.at("/memory/used").asLong()).isEqualTo(512L << 20);

        // Delete closes the port and frees it: the next container gets it.
        var deleted = m.delete("/containers/" + id, alice.token);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(202);
        await("the container deleted").atMost(Duration.ofSeconds(120))
                .until(() -> m.get("/containers/" + id, alice.token).status() == 404);
        assertThat(openPorts()).doesNotContain("[\"tcp\"," + port + "]");
        assertThat(exists(alice.instance("dev"))).isFalse();
        var next = m.post("/containers", alice.token, Map.of("name", "next", "image", BUSYBOX));
        assertThat(next.status()).as(next.body()).isEqualTo(202);
        JsonNode n = awaitState(alice, next.json().get("id").asText(), "running");
        assertThat(n.at("/ssh/port").asInt()).isEqualTo(port);
    }

    @Test
    void lxdFailureDuringCreateLeavesNoPortOpenAndNoRecord() throws Exception {
        realHost.register(m);
        Member carol = member("carol");
        Path key = keygen("carol");
        m.put("/me/keys", carol.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        // Someone made an instance by hand under the very name the Manager derives: LXD refuses the create.
        String taken = carol.instance("web");
        handMade.add(taken);
        run("lxc", "init", BUSYBOX, taken);

        var created = m.post("/containers", carol.token, Map.of("name", "web", "image", BUSYBOX));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        await("the create rolled back").atMost(Duration.ofSeconds(60))
                .until(() -> m.get("/containers/" + id, carol.token).status() == 404);
        JsonNode ops = m.get("/containers/" + id + "/operations", carol.token).json();
        assertThat(ops.get(0).get("state").asText()).isEqualTo("rolled-back");
        assertThat(ops.get(0).get("error").asText()).contains("already exists");
        assertThat(m.get("/containers", carol.token).json()).isEmpty();
        assertThat(openPorts()).isEmpty();
        // The instance that was there stays (it is not the Manager's), and the port is free again.
        assertThat(exists(taken)).isTrue();
        var next = m.post("/containers", carol.token, Map.of("name", "api", "image", BUSYBOX));
        JsonNode n = awaitState(carol, next.json().get("id").asText(), "running");
        assertThat(n.at("/ssh/port").asInt()).isEqualTo(portMin);
    }

    @Test
    void managerStoppedDuringACreateRollsItBackAfterItsRestart() throws Exception {
        realHost.register(m);
        Member dave = member("dave");
        Path key = keygen("dave");
        m.put("/me/keys", dave.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        var created = m.post("/containers", dave.token, Map.of("name", "box", "image", DEBIAN));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String id = created.json().get("id").asText();
        await("the create under way").atMost(Duration.ofSeconds(30))
                .until(() -> stepsOf(dave, id).stream().anyMatch(s -> s.contains("lxc: ")));
        m.close();
        m = null;

        m = TestManager.start(root.resolve("manager"), this::tweak);
        await("the interrupted create resolved").atMost(Duration.ofSeconds(120))
                .until(() -> m.get("/containers/" + id, dave.token).status() == 404);
        assertThat(exists(dave.instance("box"))).isFalse();
        await("no port open").atMost(Duration.ofSeconds(30)).until(() -> openPorts().isEmpty());
        JsonNode ops = m.get("/containers/" + id + "/operations", dave.token).json();
        assertThat(ops.get(0).get("state").asText()).isEqualTo("rolled-back");
        assertThat(ops.get(0).get("steps").toString()).contains("the Manager restarted during this create");
    }

    @Test
    void offboardingStopsAMembersContainersClosesTheirPortsAndThePurgeDeletesAllButTheKeptOne() throws Exception {
        realHost.register(m);
        Member erin = member("erin");
        Path key = keygen("erin");
        m.put("/me/keys", erin.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        String kept = m.post("/containers", erin.token, Map.of("name", "a", "image", BUSYBOX)).json().get("id").asText();
        String gone = m.post("/containers", erin.token, Map.of("name", "b", "image", BUSYBOX)).json().get("id").asText();
        int keptPort = awaitState(erin, kept, "running").at("/ssh/port").asInt();
        int gonePort = awaitState(erin, gone, "running").at("/ssh/port").asInt();
        assertThat(openPorts()).contains("[\"tcp\"," + keptPort + "]", "[\"tcp\"," + gonePort + "]");

        var done = m.manager.containers().offboard(erin.id).get(60, TimeUnit.SECONDS);
        assertThat(done).hasSize(2);
        JsonNode after = m.admin("GET", "/containers/" + kept, null).json();
        assertThat(after.get("state").asText()).isEqualTo("stopped");
        assertThat(after.get("deleteAfter").isNull()).isFalse();
        assertThat(openPorts()).isEmpty();
        assertThat(run("lxc", "list", erin.instance("a"), "--format", "csv", "-c", "s").strip()).isEqualTo("STOPPED");
        assertThat(m.admin("GET", "/audit?actor=manager", null).body()).contains("container.offboard");
        var keep = m.admin("POST", "/containers/" + kept + "/keep", null);
        assertThat(keep.status()).as(keep.body()).isEqualTo(200);
        assertThat(keep.json().get("kept").asBoolean()).isTrue();
        assertThat(m.post("/containers/" + kept + "/keep", erin.token, null).status()).as("admin only").isEqualTo(403);

        assertThat(m.manager.containers().purge()).isEqualTo(1);
        await("the unkept container purged").atMost(Duration.ofSeconds(60))
                .until(() -> m.admin("GET", "/containers/" + gone, null).status() == 404);
        assertThat(exists(erin.instance("b"))).isFalse();
        assertThat(exists(erin.instance("a"))).isTrue();
        assertThat(m.manager.containers().purge()).isZero();
    }

    @Test
    void deletingAMemberThroughTheApiEndsTheirTokenAndSessionStopsTheirContainersAndThePurgeSparesTheKeptOne()
            throws Exception {
        realHost.register(m);
        Member kim = member("kim");
        m.put("/me/keys", kim.token, Map.of("keys", List.of(Files.readString(pub(keygen("kim"))))));
        String kept = m.post("/containers", kim.token, Map.of("name", "keep", "image", BUSYBOX)).json().get("id").asText();
        String gone = m.post("/containers", kim.token, Map.of("name", "drop", "image", BUSYBOX)).json().get("id").asText();
        int keptPort = awaitState(kim, kept, "running").at("/ssh/port").asInt();
        int gonePort = awaitState(kim, gone, "running").at("/ssh/port").asInt();
        assertThat(openPorts()).contains("[\"tcp\"," + keptPort + "]", "[\"tcp\"," + gonePort + "]");
        // A browser session of the member's, made from their token as the console's sign-in does.
        var signIn = TestManager.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.url("/session")))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"token\":\"" + kim.token + "\"}")));
        assertThat(signIn.status()).as(signIn.body()).isEqualTo(201);
        String session = signIn.raw().headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("hd_session="))
                .map(c -> c.substring("hd_session=".length()).split(";", 2)[0]).findFirst().orElseThrow();
        java.util.function.IntSupplier sessionMe = () -> TestManager.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(m.url("/me"))).header("Cookie", "hd_session=" + session)).status();
        assertThat(sessionMe.getAsInt()).isEqualTo(200);

        // Deleted through the API: the hooks Manager wires (sessions, containers) run.
        var deleted = m.admin("DELETE", "/users/" + kim.id, null);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        assertThat(m.get("/me", kim.token).status()).isEqualTo(401);
        assertThat(sessionMe.getAsInt()).isEqualTo(401);
        await("both containers stopped with their ports closed").atMost(Duration.ofSeconds(120)).until(() -> {
            JsonNode a = m.admin("GET", "/containers/" + kept, null).json();
            JsonNode b = m.admin("GET", "/containers/" + gone, null).json();
            return a.get("state").asText().equals("stopped") && b.get("state").asText().equals("stopped")
                    && !a.get("deleteAfter").isNull() && !b.get("deleteAfter").isNull();
        });
        assertThat(openPorts()).doesNotContain("[\"tcp\"," + keptPort + "]", "[\"tcp\"," + gonePort + "]");
        assertThat(run("lxc", "list", kim.instance("keep"), "--format", "csv", "-c", "s").strip()).isEqualTo("STOPPED");
        assertThat(run("lxc", "list", kim.instance("drop"), "--format", "csv", "-c", "s").strip()).isEqualTo("STOPPED");
        String audit = m.admin("GET", "/audit?limit=200", null).body();
        assertThat(audit).contains("user.offboard", "user/kim (deleted)", "offboarded by sessions, containers",
                "container.offboard");

        // An admin keeps one; the purge (grace zero in this test's ManagerConfig) deletes only the other.
        var keep = m.admin("POST", "/containers/" + kept + "/keep", null);
        assertThat(keep.status()).as(keep.body()).isEqualTo(200);
        assertThat(m.manager.containers().purge()).isEqualTo(1);
        await("the unkept container purged").atMost(Duration.ofSeconds(60))
                .until(() -> m.admin("GET", "/containers/" + gone, null).status() == 404);
        assertThat(exists(kim.instance("drop"))).isFalse();
        assertThat(exists(kim.instance("keep"))).isTrue();
        assertThat(m.admin("GET", "/containers/" + kept, null).json().get("kept").asBoolean()).isTrue();
        assertThat(m.admin("GET", "/audit?limit=200", null).body()).contains("container.keep", "container.purge");
    }

    @Test
    void workerReconnectReportsMissingAndForeignContainersInStatsAndAuditWithoutDeletingThem() throws Exception {
        String hostId = realHost.register(m);
        Member fay = member("fay");
        Path key = keygen("fay");
        m.put("/me/keys", fay.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        String id = m.post("/containers", fay.token, Map.of("name", "gone", "image", BUSYBOX)).json().get("id").asText();
        awaitState(fay, id, "running");
        // One the Worker manages that no record knows (an admin's raw lxc.create), and one deleted behind the Manager's back.
        String stray = "hdc-stray-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        handMade.add(stray);
        var raw = m.admin("POST", "/hosts/" + hostId + "/agents/worker/commands", Map.of("command", "lxc.create",
                "data", Map.of("name", stray, "image", BUSYBOX, "owner", "container/nobody"), "timeoutSeconds", 120));
        assertThat(raw.status()).as(raw.body()).isEqualTo(200);
        run("lxc", "delete", "--force", fay.instance("gone"));

        realHost.restartWorker();

        JsonNode[] drift = new JsonNode[1];
        await("the drift in /stats").atMost(Duration.ofSeconds(30)).until(() -> {
            drift[0] = m.admin("GET", "/stats", null).json().at("/managed/containers/drift/0");
            // Contains, not equals: the LXD is shared, and other runs' containers are foreign to this Manager too.
            return drift[0].path("missing").toString().contains("\"" + fay.instance("gone") + "\"")
                    && drift[0].path("foreign").toString().contains("\"" + stray + "\"");
        });
        assertThat(drift[0].get("missing")).hasSize(1);
        assertThat(drift[0].get("missing").get(0).asText()).isEqualTo(fay.instance("gone"));
        String audit = m.admin("GET", "/audit?actor=manager", null).body();
        assertThat(audit).contains("container.missing", "host/lumi/" + fay.instance("gone"), "container.foreign",
                "host/lumi/" + stray);
        // Reported, never deleted: the stray stays and the record stays.
        assertThat(exists(stray)).isTrue();
        assertThat(m.get("/containers/" + id, fay.token).status()).isEqualTo(200);
    }

    @Test
    void guardianThatLostItsRulesGetsTheContainersSshPortBackFromTheDesiredState() throws Exception {
        String hostId = realHost.register(m);
        Member gus = member("gus");
        Path key = keygen("gus");
        m.put("/me/keys", gus.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        String id = m.post("/containers", gus.token, Map.of("name", "fw", "image", BUSYBOX)).json().get("id").asText();
        int port = awaitState(gus, id, "running").at("/ssh/port").asInt();
        var wipe = m.admin("POST", "/hosts/" + hostId + "/agents/guardian/commands", Map.of("command", "firewall.apply",
                "data", Map.of("rules", List.of(), "forwards", List.of())));
        assertThat(wipe.status()).as(wipe.body()).isEqualTo(200);
        assertThat(openPorts()).isEmpty();
        assertThat(m.manager.firewallReconciler().reconcile(hostId).get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(openPorts()).containsExactly("[\"tcp\"," + port + "]");

        // Where members reach the host, once the admin says so; the agents stay connected.
        var bad = m.admin("PATCH", "/hosts/" + hostId, Map.of("publicAddress", "lumi.example.org:22"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().at("/error/details/field").asText()).isEqualTo("publicAddress");
        var patched = m.admin("PATCH", "/hosts/" + hostId, Map.of("publicAddress", "lumi.example.org"));
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(patched.json().get("publicAddress").asText()).isEqualTo("lumi.example.org");
        assertThat(patched.json().at("/worker/connected").asBoolean()).isTrue();
        assertThat(m.get("/containers/" + id, gus.token).json().at("/ssh/command").asText())
                .isEqualTo("ssh -p " + port + " root@lumi.example.org");
    }

    @Test
    void snapshotAndBackupRestoreBringTheFileBackInPlaceAndAsANewContainerOfTheSameMember() throws Exception {
        realHost.register(m);
        Member hana = member("hana");
        Path key = keygen("hana");
        m.put("/me/keys", hana.token, Map.of("keys", List.of(Files.readString(pub(key)))));
        String id = m.post("/containers", hana.token, Map.of("name", "data", "image", BUSYBOX)).json().get("id").asText();
        int port = awaitState(hana, id, "running").at("/ssh/port").asInt();
        String instance = hana.instance("data");
        run("lxc", "exec", instance, "--", "sh", "-c", "echo one > /root/f");

        var snap = m.post("/containers/" + id + "/snapshots", hana.token, Map.of("name", "s1"));
        assertThat(snap.status()).as(snap.body()).isEqualTo(201);
        assertThat(m.get("/containers/" + id + "/snapshots", hana.token).json().at("/snapshots/0/name").asText())
                .isEqualTo("s1");
        run("lxc", "exec", instance, "--", "sh", "-c", "echo two > /root/f");
        var restored = m.post("/containers/" + id + "/snapshots/s1/restore", hana.token, null);
        assertThat(restored.status()).as(restored.body()).isEqualTo(200);
        if (!restored.json().get("state").asText().equals("running")) {
            assertThat(m.post("/containers/" + id + "/start", hana.token, null).status()).isEqualTo(200);
        }
        assertThat(run("lxc", "exec", instance, "--", "cat", "/root/f").strip()).isEqualTo("one");
        var badSnap = m.post("/containers/" + id + "/snapshots", hana.token, Map.of("name", "../x"));
        assertThat(badSnap.json().at("/error/details/field").asText()).isEqualTo("name");

        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        var stream = TestManager.HTTP.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.url("/containers/" + id + "/events")))
                .header("Authorization", "Bearer " + hana.token).header("Accept", "text/event-stream").build(),
                java.net.http.HttpResponse.BodyHandlers.ofLines());
        Thread reader = new Thread(() -> stream.thenAccept(r -> r.body().forEach(events::add)).join());
        reader.setDaemon(true);
        reader.start();
        assertThat(m.get("/containers/" + id + "/events", m.userToken("ivan", "member")).status()).isEqualTo(404);
        var backup = m.post("/containers/" + id + "/backups", hana.token, null);
        assertThat(backup.status()).as(backup.body()).isEqualTo(202);
        String op = backup.json().get("operation").asText();
        await("the backup written").atMost(Duration.ofSeconds(120)).until(() -> {
            JsonNode ops = m.get("/containers/" + id + "/operations", hana.token).json();
            for (JsonNode o : ops) {
                if (o.get("id").asText().equals(op)) {
                    return o.get("state").asText().equals("succeeded");
                }
            }
            return false;
        });
        String b = m.get("/containers/" + id + "/backups", hana.token).json().at("/backups/0/backup").asText();
        await("the backup's progress streamed").atMost(Duration.ofSeconds(10))
                .until(() -> events.contains("event: operation")
                        && events.stream().anyMatch(l -> l.contains("backup " + b + " written")));
        stream.cancel(true);
        var copy = m.post("/containers/" + id + "/backups/" + b + "/restore", hana.token, Map.of("asName", "copy"));
        assertThat(copy.status()).as(copy.body()).isEqualTo(202);
        JsonNode c = awaitState(hana, copy.json().get("id").asText(), "running");
        assertThat(c.get("name").asText()).isEqualTo("copy");
        assertThat(c.at("/ssh/port").asInt()).isNotEqualTo(port);
        assertThat(openPorts()).contains("[\"tcp\"," + port + "]", "[\"tcp\"," + c.at("/ssh/port").asInt() + "]");
        assertThat(run("lxc", "exec", hana.instance("copy"), "--", "cat", "/root/f").strip()).isEqualTo("one");
        assertThat(m.get("/me/usage", hana.token).json().at("/containers/used").asInt()).isEqualTo(2);
    }

    @Test
    void containersRequestedAtOnceByManyMembersAreAllPlacedWithoutAPortGivenTwice() throws Exception {
        realHost.register(m);
        String key = Files.readString(pub(keygen("many")));
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Member x = member("many" + i);
            m.put("/me/keys", x.token, Map.of("keys", List.of(key)));
            members.add(x);
        }
        List<java.util.concurrent.CompletableFuture<TestManager.Response>> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Member x = members.get(i / 2);
            String name = "c" + (i % 2);
            requests.add(java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> m.post("/containers", x.token, Map.of("name", name, "image", BUSYBOX))));
        }
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        for (int i = 0; i < 6; i++) {
            TestManager.Response r = requests.get(i).get(60, TimeUnit.SECONDS);
            assertThat(r.status()).as(r.body()).isEqualTo(202);
            ports.add(awaitState(members.get(i / 2), r.json().get("id").asText(), "running").at("/ssh/port").asInt());
        }
        assertThat(ports).hasSize(6).allMatch(p -> p >= portMin && p <= portMin + 19);
        assertThat(openPorts()).hasSize(6);
    }

    @Test
    void aPortOfTheRangeAHostProcessHoldsIsSkippedAndFreedAgain() throws Exception {
        realHost.register(m);
        Member jo = member("jo");
        m.put("/me/keys", jo.token, Map.of("keys", List.of(Files.readString(pub(keygen("jo"))))));
        JsonNode first;
        try (java.net.ServerSocket squatter = new java.net.ServerSocket()) {
            squatter.bind(new InetSocketAddress("0.0.0.0", portMin));
            String id = m.post("/containers", jo.token, Map.of("name", "one", "image", BUSYBOX)).json().get("id").asText();
            first = awaitState(jo, id, "running");
        }
        assertThat(first.at("/ssh/port").asInt()).isEqualTo(portMin + 1);
        assertThat(openPorts()).containsExactly("[\"tcp\"," + (portMin + 1) + "]");
        // The port tried first was not kept: with its holder gone, the next container gets it.
        String id2 = m.post("/containers", jo.token, Map.of("name", "two", "image", BUSYBOX)).json().get("id").asText();
        assertThat(awaitState(jo, id2, "running").at("/ssh/port").asInt()).isEqualTo(portMin);
    }

    @Test
    void aBackupRestoredAsANewContainerSkipsAPortAHostProcessHoldsAsACreateDoes() throws Exception {
        realHost.register(m);
        Member kim = member("kim");
        m.put("/me/keys", kim.token, Map.of("keys", List.of(Files.readString(pub(keygen("kim"))))));
        String id = m.post("/containers", kim.token, Map.of("name", "orig", "image", BUSYBOX)).json().get("id").asText();
        assertThat(awaitState(kim, id, "running").at("/ssh/port").asInt()).isEqualTo(portMin);
        String op = m.post("/containers/" + id + "/backups", kim.token, null).json().get("operation").asText();
        await("the backup written").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (JsonNode o : m.get("/containers/" + id + "/operations", kim.token).json()) {
                if (o.get("id").asText().equals(op)) {
                    return o.get("state").asText().equals("succeeded");
                }
            }
            return false;
        });
        String b = m.get("/containers/" + id + "/backups", kim.token).json().at("/backups/0/backup").asText();
        JsonNode copy;
        try (java.net.ServerSocket squatter = new java.net.ServerSocket()) {
            squatter.bind(new InetSocketAddress("0.0.0.0", portMin + 1));
            var restore = m.post("/containers/" + id + "/backups/" + b + "/restore", kim.token, Map.of("asName", "copy"));
            assertThat(restore.status()).as(restore.body()).isEqualTo(202);
            copy = awaitState(kim, restore.json().get("id").asText(), "running");
        }
        assertThat(copy.at("/ssh/port").asInt()).isEqualTo(portMin + 2);
        assertThat(openPorts()).containsExactlyInAnyOrder("[\"tcp\"," + portMin + "]", "[\"tcp\"," + (portMin + 2) + "]");
        // The port skipped was not kept: with its holder gone, the next container gets it.
        String next = m.post("/containers", kim.token, Map.of("name", "next", "image", BUSYBOX)).json().get("id").asText();
        assertThat(awaitState(kim, next, "running").at("/ssh/port").asInt()).isEqualTo(portMin + 1);
    }

    // ---- helpers ----

    record Member(String id, String token) {
        String instance(String name) {
            return "m-" + id.substring(0, 8) + "-" + name;
        }
    }

    private Member member(String name) {
        String token = m.userToken(name, "member");
        String id = m.get("/me", token).json().get("id").asText();
        prefixes.add("m-" + id.substring(0, 8) + "-");
        return new Member(id, token);
    }

    private List<String> stepsOf(Member who, String id) {
        var r = m.get("/containers/" + id + "/operations", who.token);
        List<String> out = new ArrayList<>();
        if (r.status() == 200 && r.json().size() > 0) {
            r.json().get(0).get("steps").forEach(s -> out.add(s.asText()));
        }
        return out;
    }

    private JsonNode awaitState(Member who, String id, String state) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        try {
            await("container " + id + " " + state).atMost(Duration.ofSeconds(180)).until(() -> {
                var r = m.get("/containers/" + id, who.token);
                last.set(r.json());
                return r.status() == 200 && r.json().get("state").asText().equals(state);
            });
        } catch (AssertionError | ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "; last: " + last.get() + "; operations: "
                    + m.get("/containers/" + id + "/operations", who.token).body(), e);
        }
        return last.get();
    }

    /** The open_ports elements of the Guardian's table in the namespace, each as compact JSON. */
    private List<String> openPorts() {
        List<String> out = new ArrayList<>();
        try {
            JsonNode nft = Json.MAPPER.readTree(realHost.nft("-j", "list", "set", "inet", "hostdeploy", "open_ports"));
            for (JsonNode item : nft.path("nftables")) {
                for (JsonNode e : item.path("set").path("elem")) {
                    JsonNode v = e.has("elem") ? e.get("elem").get("val") : e;
                    out.add((v.has("concat") ? v.get("concat") : v).toString());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private Path keygen(String id) throws IOException {
        Path k = root.resolve("id_" + id);
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", id, "-f", k.toString());
        Files.setPosixFilePermissions(k, PosixFilePermissions.fromString("rw-------"));
        return k;
    }

    private static Path pub(Path key) {
        return key.resolveSibling(key.getFileName() + ".pub");
    }

    record Result(int code, String out) {
    }

    private static Result ssh(Path key, int port, String... command) {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-i", key.toString(), "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                "root@127.0.0.1"));
        cmd.addAll(List.of(command));
        return exec(cmd);
    }

    private static boolean exists(String instance) {
        return exec(List.of("lxc", "info", instance)).code() == 0;
    }

    private static Result exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String run(String... cmd) {
        Result r = exec(List.of(cmd));
        if (r.code() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.out());
        }
        return r.out();
    }

    private static String runResult(String... cmd) {
        try {
            return run(cmd);
        } catch (RuntimeException e) {
            return "";
        }
    }
}
