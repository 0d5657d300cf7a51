package dev.hostdeploy.manager.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.manager.agents.AgentConnection;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.stats.Records.Item;
import dev.hostdeploy.manager.stats.Records.Kind;
import dev.hostdeploy.manager.store.ManagerJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers per-host statistics from the agents. The result is cached for {@code ttl} and serialized once,
 * so a busy dashboard costs one round of agent calls per ttl no matter how many requests it makes. A
 * snapshot older than ttl is still served (while one refresh runs in the background) up to
 * {@code maxStale}; beyond that a request waits for fresh figures.
 */
public final class StatsService {
    private static final Logger LOG = LoggerFactory.getLogger(StatsService.class);
    static final List<String> WORKER_QUERIES = List.of("host.stats", "deploy.list", "lxc.list");
    static final List<String> GUARDIAN_QUERIES = List.of("firewall.list", "firewall.status");

    private final AgentRegistry registry;
    private final Records records;
    private final long ttlNanos;
    private final long maxStaleNanos;
    private final Duration callTimeout;
    private final AtomicReference<CompletableFuture<Snapshot>> inFlight = new AtomicReference<>();
    private volatile Snapshot snapshot;

    /** One gathered round: the JSON the API serves and when it was made. */
    public record Snapshot(byte[] json, long madeAtNanos, Instant generatedAt) {
    }

    public StatsService(AgentRegistry registry, Records records, Duration ttl, Duration callTimeout) {
        this.registry = registry;
        this.records = records;
        this.ttlNanos = ttl.toNanos();
        this.maxStaleNanos = Math.max(ttl.toNanos() * 10, Duration.ofSeconds(30).toNanos());
        this.callTimeout = callTimeout;
    }

    /** The cached snapshot, or the one being gathered; never blocks the caller's thread. */
    public CompletableFuture<Snapshot> get() {
        Snapshot s = snapshot;
        long now = System.nanoTime();
        if (s != null && now - s.madeAtNanos() < ttlNanos) {
            return CompletableFuture.completedFuture(s);
        }
        CompletableFuture<Snapshot> refresh = refresh();
        if (s != null && now - s.madeAtNanos() < maxStaleNanos) {
            return CompletableFuture.completedFuture(s);
        }
        return refresh.copy().orTimeout(callTimeout.toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
    }

    /** Drops the cache, e.g. after a host was added, changed or removed. */
    public void invalidate() {
        snapshot = null;
    }

    /** Forgets a deleted host's stored records. */
    public void forgetHost(String hostId) {
        records.removeHost(hostId);
        invalidate();
    }

    /**
     * Registers {@code hostdeploy_deployments} and {@code hostdeploy_containers} by state, from the
     * latest reports; returns what refreshes their rows before a scrape.
     */
    public Runnable bindMetrics(MeterRegistry registry) {
        MultiGauge deployments = MultiGauge.builder("hostdeploy.deployments")
                .description("Deployments by state, as last reported by the Workers.").register(registry);
        MultiGauge containers = MultiGauge.builder("hostdeploy.containers")
                .description("LXC containers by state, as last reported by the Workers.").register(registry);
        return () -> {
            deployments.register(rows(Kind.DEPLOYMENT), true);
            containers.register(rows(Kind.CONTAINER), true);
        };
    }

    private List<MultiGauge.Row<?>> rows(Kind kind) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        records.countByState(kind).forEach((state, n) -> rows.add(MultiGauge.Row.of(Tags.of("state", state), n)));
        return rows;
    }

    private CompletableFuture<Snapshot> refresh() {
        CompletableFuture<Snapshot> mine = new CompletableFuture<>();
        CompletableFuture<Snapshot> running = inFlight.compareAndExchange(null, mine);
        if (running != null) {
            return running;
        }
        gather().whenComplete((snap, e) -> {
            if (e != null) {
                LOG.warn("gathering stats failed: {}", e.toString());
                inFlight.set(null);
                mine.completeExceptionally(e);
            } else {
                snapshot = snap;
                inFlight.set(null);
                mine.complete(snap);
            }
        });
        return mine;
    }

    private CompletableFuture<Snapshot> gather() {
        List<HostAgents> hosts = new ArrayList<>(registry.all());
        hosts.sort(Comparator.comparing(HostAgents::hostName));
        List<CompletableFuture<ObjectNode>> perHost = new ArrayList<>();
        for (HostAgents h : hosts) {
            perHost.add(host(h));
        }
        return CompletableFuture.allOf(perHost.toArray(CompletableFuture[]::new)).thenApply(v -> {
            ObjectNode root = ManagerJson.MAPPER.createObjectNode();
            Instant now = Instant.now();
            root.put("generatedAt", now.toString());
            ArrayNode list = root.putArray("hosts");
            for (CompletableFuture<ObjectNode> f : perHost) {
                list.add(f.join());
            }
            root.set("totals", totals(list));
            try {
                return new Snapshot(ManagerJson.MAPPER.writeValueAsBytes(root), System.nanoTime(), now);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    private CompletableFuture<ObjectNode> host(HostAgents h) {
        Map<String, CompletableFuture<Result>> calls = new java.util.LinkedHashMap<>();
        for (String q : WORKER_QUERIES) {
            calls.put(q, query(h.worker(), q));
        }
        for (String q : GUARDIAN_QUERIES) {
            calls.put(q, query(h.guardian(), q));
        }
        return CompletableFuture.allOf(calls.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            ObjectNode out = ManagerJson.MAPPER.createObjectNode();
            out.put("id", h.hostId());
            out.put("name", h.hostName());
            ObjectNode agents = out.putObject("agents");
            agents.set("worker", ManagerJson.MAPPER.valueToTree(h.worker().status()));
            agents.set("guardian", ManagerJson.MAPPER.valueToTree(h.guardian().status()));
            ObjectNode errors = ManagerJson.MAPPER.createObjectNode();
            calls.forEach((q, f) -> {
                Result r = f.join();
                if (r.error() != null) {
                    errors.put(q, r.error());
                }
            });
            out.set("host", calls.get("host.stats").join().value());
            out.set("deployments", records(h.hostId(), Kind.DEPLOYMENT, calls.get("deploy.list").join(), "deployments"));
            out.set("containers", records(h.hostId(), Kind.CONTAINER, calls.get("lxc.list").join(), "containers"));
            out.set("openPorts", openPorts(calls.get("firewall.list").join().value()));
            out.set("firewall", calls.get("firewall.status").join().value());
            out.set("errors", errors);
            return out;
        });
    }

    private record Result(JsonNode value, String error) {
    }

    private CompletableFuture<Result> query(AgentConnection agent, String command) {
        return agent.call(command, Map.of(), callTimeout, null)
                .handle((r, e) -> e == null ? new Result(r, null)
                        : new Result(null, AgentRegistry.errorCode(e) + ": " + message(e)));
    }

    private static String message(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return t instanceof dev.hostdeploy.protocol.AgentCallException a ? a.error().message() : t.toString();
    }

    /**
     * Counts by state from the agent's fresh list, storing it; when the agent did not answer, from the
     * last stored records (marked {@code "source": "stored"}).
     */
    private ObjectNode records(String hostId, Kind kind, Result r, String field) {
        ObjectNode out = ManagerJson.MAPPER.createObjectNode();
        JsonNode list = r.value() == null ? null : r.value().isArray() ? r.value() : r.value().get(field);
        if (list != null && list.isArray()) {
            List<Item> items = new ArrayList<>();
            for (JsonNode n : list) {
                String name = text(n, "name");
                if (name != null) {
                    String state = text(n, "state");
                    items.add(new Item(name, state != null ? state : text(n, "status"), text(n, "owner")));
                }
            }
            try {
                records.sync(kind, hostId, items);
            } catch (RuntimeException e) {
                LOG.warn("could not store {} records of host {}: {}", kind, hostId, e.toString());
            }
            out.put("source", "live");
        } else {
            out.put("source", "stored");
        }
        Map<String, Long> byState = records.countByState(kind, hostId);
        out.put("total", byState.values().stream().mapToLong(Long::longValue).sum());
        out.set("byState", ManagerJson.MAPPER.valueToTree(byState));
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v != null && v.isValueNode() && !v.isNull() ? v.asText() : null;
    }

    /** Open ports from the Guardian's rules: single ports and ranges ("8000-8010") both counted per port. */
    private static JsonNode openPorts(JsonNode firewall) {
        if (firewall == null) {
            return null;
        }
        ObjectNode out = ManagerJson.MAPPER.createObjectNode();
        long count = 0;
        ArrayNode rules = out.putArray("rules");
        for (JsonNode rule : firewall.path("rules")) {
            rules.add(rule);
            count += portCount(rule);
        }
        out.put("count", count);
        out.put("forwards", firewall.path("forwards").size());
        return out;
    }

    static long portCount(JsonNode rule) {
        if (rule.path("port").canConvertToInt()) {
            return 1;
        }
        String ports = rule.path("ports").asText("");
        int dash = ports.indexOf('-');
        try {
            if (dash > 0) {
                return Integer.parseInt(ports.substring(dash + 1).trim()) - Integer.parseInt(ports.substring(0, dash).trim()) + 1L;
            }
            return ports.isEmpty() ? 0 : 1;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private ObjectNode totals(ArrayNode hosts) {
        ObjectNode t = ManagerJson.MAPPER.createObjectNode();
        t.put("hosts", hosts.size());
        ObjectNode agents = t.putObject("agents");
        long connected = 0;
        long openPorts = 0;
        long dockerRunning = 0;
        long dockerTotal = 0;
        for (JsonNode h : hosts) {
            connected += (h.path("agents").path("worker").path("connected").asBoolean() ? 1 : 0)
                    + (h.path("agents").path("guardian").path("connected").asBoolean() ? 1 : 0);
            openPorts += h.path("openPorts").path("count").asLong(0);
            JsonNode docker = dockerCounts(h.path("host"));
            dockerRunning += docker.path("running").asLong(0);
            dockerTotal += docker.path("total").asLong(0);
        }
        agents.put("connected", connected);
        agents.put("total", hosts.size() * 2L);
        t.set("deployments", ManagerJson.MAPPER.valueToTree(records.countByState(Kind.DEPLOYMENT)));
        t.set("containers", ManagerJson.MAPPER.valueToTree(records.countByState(Kind.CONTAINER)));
        t.put("openPorts", openPorts);
        ObjectNode docker = t.putObject("dockerContainers");
        docker.put("running", dockerRunning);
        docker.put("total", dockerTotal);
        return t;
    }

    /** The Worker's flat containersRunning/containersTotal, or a nested docker.containers object. */
    private static JsonNode dockerCounts(JsonNode hostStats) {
        if (hostStats.has("containersRunning") || hostStats.has("containersTotal")) {
            ObjectNode flat = ManagerJson.MAPPER.createObjectNode();
            flat.put("running", hostStats.path("containersRunning").asLong(0));
            flat.put("total", hostStats.path("containersTotal").asLong(0));
            return flat;
        }
        JsonNode d = hostStats.path("docker");
        if (d.isObject()) {
            JsonNode c = d.path("containers");
            return c.isObject() ? c : d;
        }
        return hostStats.path("containers");
    }
}
