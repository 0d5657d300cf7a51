package dev.hostdeploy.guardian;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.state.StateStore;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustList;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class FirewallStateTest {
    @TempDir
    Path state;
    NetNs ns;
    String host;
    GuardianFixture g;

    @BeforeEach
    void namespace() {
        ns = new NetNs();
        host = ns.create("h");
    }

    @AfterEach
    void cleanUp() {
        if (g != null) {
            g.close();
        }
        ns.close();
    }

    private static String ports(int n, int from) {
        StringBuilder sb = new StringBuilder("{\"rules\":[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"protocol\":\"tcp\",\"port\":").append(from + 2 * i)
                    .append(",\"owner\":\"deployment/o").append(i % 7).append("\"}");
        }
        return sb.append("],\"forwards\":[]}").toString();
    }

    private String elements(String set) {
        return ns.exec(host, "nft", "list", "set", "inet", "hostdeploy", set);
    }

    @Test
    void thousandPortsApplyInOneCommandWithoutAddingRules() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b);
        int rulesEmpty = g.call("firewall.status", "{}").path("nftRules").asInt();

        JsonNode r = g.call("firewall.apply", ports(1000, 10000));
        assertThat(r.path("rules").asInt()).isEqualTo(1000);
        JsonNode status = g.call("firewall.status", "{}");
        assertThat(status.path("inSync").asBoolean()).as(status.toString()).isTrue();
        assertThat(status.path("nftRules").asInt()).isEqualTo(rulesEmpty);
        assertThat(g.call("firewall.list", "{}").path("rules")).hasSize(1000);
        assertThat(elements("open_ports")).contains("tcp . 10000", "tcp . 11998");
    }

    @Test
    void applyThatNftRejectsLeavesThePreviousStateInForce() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b.maxElements(100));
        g.call("firewall.apply", ports(50, 20000));
        String kernelBefore = elements("open_ports");
        String fileBefore = Files.readString(state.resolve(StateStore.FILE));

        AgentCallException e = g.error("firewall.apply", ports(150, 30000));
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("nft rejected", "previous state stays in force");

        assertThat(elements("open_ports")).isEqualTo(kernelBefore);
        assertThat(Files.readString(state.resolve(StateStore.FILE))).isEqualTo(fileBefore);
        assertThat(g.call("firewall.list", "{}").path("rules")).hasSize(50);
        assertThat(g.call("firewall.status", "{}").path("inSync").asBoolean()).isTrue();
    }

    @Test
    void openThatNftRejectsLeavesThePreviousStateInForceAndOnDisk() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b.maxElements(2));
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":1000}");
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":1002}");
        String kernelBefore = elements("open_ports");

        AgentCallException e = g.error("firewall.open", "{\"protocol\":\"tcp\",\"port\":1004}");
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("nft rejected", "previous state stays in force");
        assertThat(elements("open_ports")).isEqualTo(kernelBefore);
        assertThat(g.call("firewall.list", "{}").path("rules")).hasSize(2);

        // the long-lived nft still serves the next changes
        assertThat(g.call("firewall.close", "{\"protocol\":\"tcp\",\"port\":1002}").path("closed").asInt()).isEqualTo(1);
        assertThat(g.call("firewall.open", "{\"protocol\":\"udp\",\"port\":53}").path("changed").asBoolean()).isTrue();
        assertThat(elements("open_ports")).contains("tcp . 1000", "udp . 53").doesNotContain("1002");
        g.close();
        g = new GuardianFixture(ns.nft(host), state, b -> b.maxElements(2));
        assertThat(g.call("firewall.list", "{}").path("rules").toString()).contains("1000", "53").doesNotContain("1002").doesNotContain("1004");
        assertThat(g.call("firewall.status", "{}").path("inSync").asBoolean()).isTrue();
    }

    @Test
    void nftProcessThatDiesIsReplacedAndTheNextOpenIsApplied() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b);
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":7000}");
        long pid = g.agent.firewall().nftSessionPid().orElseThrow();
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
        await("the killed nft process gone").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

        assertThat(g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":7002}").path("changed").asBoolean()).isTrue();
        assertThat(g.agent.firewall().nftSessionPid()).isPresent().isNotEqualTo(java.util.OptionalLong.of(pid));
        assertThat(elements("open_ports")).contains("tcp . 7000", "tcp . 7002");
        g.call("firewall.close", "{\"protocol\":\"tcp\",\"port\":7000}");
        assertThat(elements("open_ports")).doesNotContain("tcp . 7000").contains("tcp . 7002");
        assertThat(g.call("firewall.status", "{}").path("inSync").asBoolean()).isTrue();
    }

    @Test
    void driftIsRepairedAndReportedToTheManager() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b.checkInterval(Duration.ofMillis(500)));
        g.call("firewall.open", "{\"protocol\":\"udp\",\"ports\":\"5000-5010\",\"owner\":\"deployment/game\"}");
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":443,\"source\":\"2001:db8::/32\"}");
        String before = elements("udp_ranges") + elements("tcp_src6");

        ns.exec(host, "nft", "flush", "ruleset");
        await("the repair reported").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(g.events).isNotEmpty());
        JsonNode ev = g.events.get(0);
        assertThat(ev.path("event").asText()).isEqualTo("firewall.repaired");
        assertThat(ev.path("repaired").toString()).contains("missing");
        assertThat(elements("udp_ranges") + elements("tcp_src6")).isEqualTo(before);

        ns.exec(host, "nft", "delete", "element", "inet", "hostdeploy", "udp_ranges", "{ 5000-5010 }");
        JsonNode status = g.call("firewall.status", "{}");
        assertThat(status.path("inSync").asBoolean()).isFalse();
        assertThat(status.path("drift").toString()).contains("udp_ranges");
        assertThat(g.agent.checkNow()).isNotEmpty();
        assertThat(elements("udp_ranges")).contains("5000-5010");
    }

    @Test
    void killNineFlushAndRestartRestoreTheExactSameState() throws Exception {
        Path dir = Files.createDirectory(state.resolve("id"));
        Path stateDir = state.resolve("state");
        Identity guardianId = Identity.loadOrCreate(dir, "hostdeploy-guardian");
        TrustList.load(dir).trust("manager", GuardianFixture.MANAGER.fingerprint());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process p = startGuardianProcess(dir, stateDir, port);
        String listing;
        try (AgentClient c = connect(port, guardianId)) {
            call(c, "firewall.open", "{\"protocol\":\"tcp\",\"port\":8443,\"owner\":\"deployment/web\"}");
            call(c, "firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"6000-6100\",\"source\":\"10.231.0.0/16\",\"owner\":\"deployment/db\"}");
            call(c, "forward.add", "{\"protocol\":\"udp\",\"hostPort\":27015,\"targetAddress\":\"10.231.5.5\",\"targetPort\":27015,\"owner\":\"deployment/game\"}");
            listing = withoutHandles(ns.exec(host, "nft", "list", "table", "inet", "hostdeploy"));
        } finally {
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            p.waitFor(10, TimeUnit.SECONDS);
        }
        ns.exec(host, "nft", "flush", "ruleset");
        assertThat(ns.exec(host, "nft", "list", "ruleset")).doesNotContain("hostdeploy");

        Process p2 = startGuardianProcess(dir, stateDir, port);
        try (AgentClient c = connect(port, guardianId)) {
            assertThat(withoutHandles(ns.exec(host, "nft", "list", "table", "inet", "hostdeploy"))).isEqualTo(listing);
            JsonNode list = call(c, "firewall.list", "{}");
            assertThat(list.path("rules")).hasSize(2);
            assertThat(list.path("forwards").get(0).path("targetAddress").asText()).isEqualTo("10.231.5.5");
        } finally {
            p2.destroyForcibly();
            p2.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String withoutHandles(String s) {
        return s.replaceAll("\\s*# handle \\d+", "");
    }

    private Process startGuardianProcess(Path dir, Path stateDir, int port) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), GuardianMain.class.getName(), "run",
                "--dir", dir.toString(), "--listen", "127.0.0.1:" + port, "--state", stateDir.toString(),
                "--nft", String.join(",", ns.nft(host))));
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(state.resolve("guardian-" + System.nanoTime() + ".log").toFile()).start();
    }

    private static AgentClient connect(int port, Identity guardian) throws Exception {
        AgentClient c = AgentClient.builder(URI.create("wss://127.0.0.1:" + port + "/hostdeploy/v1"),
                GuardianFixture.MANAGER, TrustPolicy.exactly(List.of(guardian.fingerprint())))
                .requestTimeout(Duration.ofSeconds(30)).build();
        c.start();
        assertThat(c.awaitConnected(Duration.ofSeconds(40))).isTrue();
        return c;
    }

    private static JsonNode call(AgentClient c, String command, String json) throws Exception {
        // The child may still be restoring its state right after it starts listening: it answers unavailable
        // until then (about 5 s of those answers, then one call's 30 s).
        return await(command + " answered").atMost(Duration.ofSeconds(35)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsMatching(e -> e instanceof ExecutionException
                        && e.getCause() instanceof AgentCallException ace && ace.code() == ErrorCode.UNAVAILABLE)
                .until(() -> c.call(command, Json.MAPPER.readTree(json)).get(30, TimeUnit.SECONDS), Objects::nonNull);
    }
}
