package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Manager against the real agents, in-process over mutual TLS on loopback: a Guardian whose nft runs
 * in a network namespace this test creates (the host's own ruleset is never touched), and a Worker with
 * its deploy module (deploy root in a temp dir, the real dockerd) and its LXC module (the real LXD).
 * Asserts what an admin sees through the REST API.
 */
@Timeout(90)
class RealAgentsEndToEndTest {
    @TempDir
    Path root;
    TestManager m;
    String ns;
    GuardianAgent guardian;
    Identity guardianKey;
    DeployModule deploy;
    LxcModule lxc;
    AgentServer worker;
    Identity workerKey;
    Path deployRoot;

    @BeforeEach
    void start() throws Exception {
        m = TestManager.start(root.resolve("manager"));
        TrustPolicy manager = TrustPolicy.exactly(List.of(m.manager.identity().fingerprint()));

        ns = "hdm" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        run("ip", "netns", "add", ns);
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        guardianKey = Identity.generate("guardian");
        guardian = GuardianAgent.builder(guardianKey, manager, root.resolve("guardian-state"))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft"))
                .build();
        guardian.start();

        // As WorkerRunCommand assembles it.
        deployRoot = Files.createDirectories(root.resolve("deploy"));
        HandlerRegistry registry = new HandlerRegistry();
        deploy = DeployModule.create(new DeployOptions().deployRoot(deployRoot));
        deploy.register(registry);
        lxc = LxcModule.create(new LxcOptions(List.of(), root.resolve("lxc-backups"), 7, null));
        lxc.register(registry);
        workerKey = Identity.generate("worker");
        worker = AgentServer.builder(workerKey, manager, registry)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version(Cli.version()).build();
        worker.start();
    }

    @AfterEach
    void stop() {
        if (m != null) {
            m.close();
        }
        if (worker != null) {
            worker.close();
        }
        if (lxc != null) {
            lxc.close();
        }
        if (deploy != null) {
            deploy.close();
        }
        if (guardian != null) {
            guardian.close();
        }
        if (ns != null) {
            runResult("ip", "netns", "pids", ns).lines().forEach(pid -> runResult("kill", "-9", pid.strip()));
            runResult("ip", "netns", "del", ns);
        }
    }

    @Test
    void adminSeesBothRealAgentsConnectedWithTheirVersionsAndTheWorkersOwnHostFigures() throws Exception {
        String id = register();
        JsonNode hosts = m.admin("GET", "/hosts", null).json();
        assertThat(hosts).hasSize(1);
        JsonNode w = hosts.get(0).get("worker");
        JsonNode g = hosts.get(0).get("guardian");
        assertThat(w.get("connected").asBoolean()).isTrue();
        assertThat(g.get("connected").asBoolean()).isTrue();
        assertThat(w.get("version").asText()).isEqualTo(Cli.version());
        assertThat(g.get("version").asText()).isEqualTo(GuardianAgent.VERSION);
        assertThat(w.get("fingerprint").asText()).isEqualTo(workerKey.fingerprint());
        assertThat(g.get("fingerprint").asText()).isEqualTo(guardianKey.fingerprint());
        assertThat(g.get("lastError").isNull()).isTrue();

        JsonNode host = freshStats(s -> s.at("/hosts/0/host").isObject()).at("/hosts/0");
        assertThat(host.get("id").asText()).isEqualTo(id);
        assertThat(host.get("errors")).as("queries that failed").isEmpty();
        JsonNode stats = host.get("host");
        assertThat(stats.get("cpus").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        for (String load : List.of("load1", "load5", "load15")) {
            assertThat(stats.get(load).isNumber()).as(load).isTrue();
            assertThat(stats.get(load).asDouble()).as(load).isGreaterThanOrEqualTo(0);
        }
        assertThat(stats.get("memoryTotalBytes").asLong()).isEqualTo(memTotalBytes());
        assertThat(stats.get("memoryAvailableBytes").asLong()).isPositive().isLessThanOrEqualTo(memTotalBytes());
        FileStore disk = Files.getFileStore(deployRoot);
        assertThat(stats.get("diskPath").asText()).isEqualTo(deployRoot.toString());
        assertThat(stats.get("diskTotalBytes").asLong()).isEqualTo(disk.getTotalSpace());
        assertThat(stats.get("diskFreeBytes").asLong()).isPositive().isLessThanOrEqualTo(disk.getTotalSpace());
        assertThat(stats.get("containersRunning").asInt()).isBetween(0, stats.get("containersTotal").asInt());
        // An empty deploy root: the real deploy.list answered, with nothing in it.
        assertThat(host.at("/deployments/source").asText()).isEqualTo("live");
        assertThat(host.at("/deployments/total").asInt()).isZero();
        assertThat(host.at("/containers/source").asText()).isEqualTo("live");
        assertThat(host.at("/firewall/tablePresent").asBoolean()).isTrue();
        assertThat(host.at("/firewall/inSync").asBoolean()).isTrue();
        assertThat(host.at("/openPorts/count").asInt()).isZero();
        JsonNode totals = m.admin("GET", "/stats", null).json().get("totals");
        assertThat(totals.at("/agents/connected").asInt()).isEqualTo(2);
        assertThat(totals.at("/dockerContainers/total").isNumber()).isTrue();
    }

    @Test
    void portOpenedThroughTheManagerIsInTheRealRulesetInStatsAndInTheAudit() throws Exception {
        String id = register();
        var single = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.open",
                "data", Map.of("protocol", "tcp", "port", 8080, "owner", "deployment/app")));
        assertThat(single.status()).as(single.body()).isEqualTo(200);
        assertThat(single.json().at("/result/changed").asBoolean()).isTrue();
        var range = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.open",
                "data", Map.of("protocol", "udp", "ports", "9000-9009", "owner", "container/member-1")));
        assertThat(range.status()).as(range.body()).isEqualTo(200);

        // The real Guardian refuses bad input; the Manager passes its answer on, field named.
        var bad = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.open",
                "data", Map.of("protocol", "tcp", "port", 70000)));
        assertThat(bad.status()).as(bad.body()).isEqualTo(400);
        assertThat(bad.json().at("/error/code").asText()).isEqualTo("invalid_data");
        assertThat(bad.json().at("/error/details/field").asText()).isEqualTo("port");
        assertThat(bad.json().at("/error/details/source").asText()).isEqualTo("agent");

        JsonNode table = Json.MAPPER.readTree(run("ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "hostdeploy"));
        assertThat(setElements(table, "open_ports")).contains("[\"tcp\",8080]");
        assertThat(setElements(table, "udp_ranges")).contains("[9000,9009]");

        JsonNode stats = freshStats(s -> s.at("/hosts/0/openPorts/count").asInt() == 11);
        JsonNode open = stats.at("/hosts/0/openPorts");
        assertThat(open.get("rules")).extracting(r -> r.path("owner").asText()).containsExactlyInAnyOrder("deployment/app", "container/member-1");
        assertThat(stats.at("/hosts/0/firewall/rules").asInt()).isEqualTo(2);
        assertThat(stats.at("/totals/openPorts").asInt()).isEqualTo(11);

        JsonNode audit = m.admin("GET", "/audit?actor=admin", null).json();
        List<String> opens = new ArrayList<>();
        for (JsonNode e : audit) {
            if (e.get("action").asText().equals("agent.firewall.open")) {
                assertThat(e.get("target").asText()).isEqualTo("host/lumi/guardian");
                opens.add(e.get("result").asText());
            }
        }
        assertThat(opens).as("newest first").containsExactly("invalid_data", "ok", "ok");
    }

    @Test
    void afterTheRealGuardianStopsStatsShowItDownWhileTheWorkerStaysUp() throws Exception {
        String id = register();
        var open = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.open",
                "data", Map.of("protocol", "tcp", "port", 8443)));
        assertThat(open.status()).as(open.body()).isEqualTo(200);
        guardian.close();
        guardian = null;

        JsonNode stats = freshStats(s -> !s.at("/hosts/0/agents/guardian/connected").asBoolean());
        JsonNode host = stats.at("/hosts/0");
        assertThat(host.at("/agents/guardian/lastError").asText()).isNotEmpty();
        assertThat(host.at("/agents/worker/connected").asBoolean()).isTrue();
        assertThat(host.at("/host/cpus").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(host.at("/errors/firewall.list").asText()).startsWith("unavailable");
        assertThat(host.at("/errors/firewall.status").asText()).startsWith("unavailable");
        assertThat(host.get("errors").has("host.stats")).isFalse();
        assertThat(host.get("openPorts").isNull()).isTrue();
        assertThat(stats.at("/totals/agents/connected").asInt()).isEqualTo(1);
        var call = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.list"));
        assertThat(call.status()).isEqualTo(503);
        // Stopping the Guardian leaves its table in force.
        assertThat(run("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "hostdeploy", "open_ports"))
                .contains("tcp . 8443");
    }

    /** Registers the host "lumi" and waits until the Manager has connected to both agents. */
    private String register() throws InterruptedException {
        var r = m.admin("POST", "/hosts", Map.of("name", "lumi",
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", workerKey.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardian.port(), "fingerprint", guardianKey.fingerprint())));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String id = r.json().get("id").asText();
        AgentRegistryTest.await("both agents connected", () -> {
            JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
        });
        return id;
    }

    /** GET /stats until the (briefly cached) snapshot satisfies {@code ready}. */
    private JsonNode freshStats(Predicate<JsonNode> ready) throws InterruptedException {
        JsonNode[] last = new JsonNode[1];
        try {
            AgentRegistryTest.await("stats", () -> {
                var r = m.admin("GET", "/stats", null);
                last[0] = r.json();
                return r.status() == 200 && ready.test(r.json());
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last /stats: " + last[0], e);
        }
        return last[0];
    }

    /** The elements of one set in {@code nft -j} output, each as compact JSON ({@code ["tcp",8080]}). */
    private static List<String> setElements(JsonNode nft, String set) {
        List<String> out = new ArrayList<>();
        for (JsonNode item : nft.path("nftables")) {
            JsonNode s = item.path("set");
            if (s.path("name").asText().equals(set)) {
                for (JsonNode e : s.path("elem")) {
                    JsonNode v = e.has("elem") ? e.get("elem").get("val") : e;
                    JsonNode inner = v.has("concat") ? v.get("concat") : v.has("range") ? v.get("range") : v;
                    out.add(inner.toString());
                }
            }
        }
        return out;
    }

    private static long memTotalBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no MemTotal in /proc/meminfo");
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            if (p.exitValue() != 0) {
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

    /** Like run, but for cleanup: never throws, returns the output (empty on failure). */
    private static String runResult(String... cmd) {
        try {
            return run(cmd);
        } catch (RuntimeException e) {
            return "";
        }
    }
}
