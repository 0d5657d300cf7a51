package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.awaitility.core.ConditionTimeoutException;
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
    RealHost realHost;

    @BeforeEach
    void start() throws Exception {
        m = TestManager.start(root.resolve("manager"));
        // As WorkerRunCommand assembles it, but without the LXC info.
        realHost = RealHost.builder("hdm").deploy(new DeployOptions())
                .lxc(new LxcOptions(List.of(), root.resolve("lxc-backups"), 7, null)).lxcInfo(false).start(m, root);
    }

    @AfterEach
    void stop() {
        if (m != null) {
            m.close();
        }
        if (realHost != null) {
            realHost.close();
        }
    }

    @Test
    void adminSeesBothRealAgentsConnectedWithTheirVersionsAndTheWorkersOwnHostFigures() throws Exception {
        String id = realHost.register(m);
        JsonNode hosts = m.admin("GET", "/hosts", null).json();
        assertThat(hosts).hasSize(1);
        JsonNode w = hosts.get(0).get("worker");
        JsonNode g = hosts.get(0).get("guardian");
        assertThat(w.get("connected").asBoolean()).isTrue();
        assertThat(g.get("connected").asBoolean()).isTrue();
        assertThat(w.get("version").asText()).isEqualTo(Cli.version());
        assertThat(g.get("version").asText()).isEqualTo(GuardianAgent.VERSION);
        assertThat(w.get("fingerprint").asText()).isEqualTo(realHost.workerKey.fingerprint());
        assertThat(g.get("fingerprint").asText()).isEqualTo(realHost.guardianKey.fingerprint());
        assertThat(g.get("lastError").isNull()).isTrue();

        // This build's agents answer the round with one summary each (the five queries are for older ones).
        assertThat(m.manager.agents().worker(id).handle().serves("host.summary")).isTrue();
        assertThat(m.manager.agents().guardian(id).handle().serves("firewall.summary")).isTrue();
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
        FileStore disk = Files.getFileStore(realHost.deployRoot);
        assertThat(stats.get("diskPath").asText()).isEqualTo(realHost.deployRoot.toString());
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
        String id = realHost.register(m);
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

        JsonNode table = Json.MAPPER.readTree(realHost.nft("-j", "list", "table", "inet", "hostdeploy"));
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
        String id = realHost.register(m);
        var open = m.admin("POST", "/hosts/" + id + "/agents/guardian/commands", Map.of("command", "firewall.open",
                "data", Map.of("protocol", "tcp", "port", 8443)));
        assertThat(open.status()).as(open.body()).isEqualTo(200);
        realHost.stopGuardian();

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
        assertThat(realHost.nft("list", "set", "inet", "hostdeploy", "open_ports"))
                .contains("tcp . 8443");
    }

    /** GET /stats until the (briefly cached) snapshot satisfies {@code ready}. */
    private JsonNode freshStats(Predicate<JsonNode> ready) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        try {
            await("stats").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                var r = m.admin("GET", "/stats", null);
                last.set(r.json());
                return r.status() == 200 && ready.test(r.json());
            });
        } catch (AssertionError | ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "; last /stats: " + last.get(), e);
        }
        return last.get();
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
}
