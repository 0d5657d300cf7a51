package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.orchestration.AgentConnection;
import dev.hostdeploy.manager.orchestration.AgentRegistry;
import dev.hostdeploy.manager.orchestration.HostAgents;
import dev.hostdeploy.manager.store.Records;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** Prometheus text exposition, written by hand: a few counters and one histogram need no library. */
final class Metrics {
    private static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

    private final ConcurrentHashMap<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Histogram> latencies = new ConcurrentHashMap<>();
    private final AgentRegistry registry;
    private final Records records;

    private static final class Histogram {
        final LongAdder[] buckets = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final DoubleAdder sum = new DoubleAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        void observe(double seconds) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (seconds <= BUCKETS[i]) {
                    buckets[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(seconds);
        }
    }

    Metrics(AgentRegistry registry, Records records) {
        this.registry = registry;
        this.records = records;
    }

    /** {@code route} is the route template (never the raw path), so label values stay few. */
    void request(String method, String route, int status, double seconds) {
        String labels = "method=\"" + method + "\",route=\"" + escape(route) + "\"";
        requests.computeIfAbsent(labels + ",status=\"" + status + "\"", k -> new LongAdder()).increment();
        latencies.computeIfAbsent(labels, k -> new Histogram()).observe(seconds);
    }

    String render() {
        StringBuilder out = new StringBuilder(4096);
        out.append("# HELP hostdeploy_http_requests_total HTTP requests by method, route and status.\n");
        out.append("# TYPE hostdeploy_http_requests_total counter\n");
        new TreeMap<>(requests).forEach((labels, n) ->
                out.append("hostdeploy_http_requests_total{").append(labels).append("} ").append(n.sum()).append('\n'));
        out.append("# HELP hostdeploy_http_request_duration_seconds HTTP request latency.\n");
        out.append("# TYPE hostdeploy_http_request_duration_seconds histogram\n");
        new TreeMap<>(latencies).forEach((labels, h) -> {
            long cumulative = 0;
            for (int i = 0; i < BUCKETS.length; i++) {
                cumulative += h.buckets[i].sum();
                out.append("hostdeploy_http_request_duration_seconds_bucket{").append(labels).append(",le=\"")
                        .append(BUCKETS[i]).append("\"} ").append(cumulative).append('\n');
            }
            long count = h.count.sum();
            out.append("hostdeploy_http_request_duration_seconds_bucket{").append(labels).append(",le=\"+Inf\"} ")
                    .append(count).append('\n');
            out.append("hostdeploy_http_request_duration_seconds_sum{").append(labels).append("} ")
                    .append(h.sum.sum()).append('\n');
            out.append("hostdeploy_http_request_duration_seconds_count{").append(labels).append("} ")
                    .append(count).append('\n');
        });
        out.append("# HELP hostdeploy_agent_connected 1 when the Manager is connected to the agent.\n");
        out.append("# TYPE hostdeploy_agent_connected gauge\n");
        StringBuilder rtt = new StringBuilder();
        for (HostAgents h : registry.all()) {
            for (AgentConnection a : new AgentConnection[] {h.worker(), h.guardian()}) {
                String labels = "host=\"" + escape(h.hostName()) + "\",agent=\"" + a.role().wire() + "\"";
                out.append("hostdeploy_agent_connected{").append(labels).append("} ").append(a.connected() ? 1 : 0).append('\n');
                Double ms = a.rttMs();
                if (ms != null) {
                    rtt.append("hostdeploy_agent_rtt_seconds{").append(labels).append("} ").append(ms / 1000.0).append('\n');
                }
            }
        }
        out.append("# HELP hostdeploy_agent_rtt_seconds Last measured ping round-trip time per agent.\n");
        out.append("# TYPE hostdeploy_agent_rtt_seconds gauge\n").append(rtt);
        gauge(out, "hostdeploy_deployments", "Deployments by state, as last reported by the Workers.",
                records.countByState(Records.Kind.DEPLOYMENT));
        gauge(out, "hostdeploy_containers", "LXC containers by state, as last reported by the Workers.",
                records.countByState(Records.Kind.CONTAINER));
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, Map<String, Long> byState) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        byState.forEach((state, n) ->
                out.append(name).append("{state=\"").append(escape(state)).append("\"} ").append(n).append('\n'));
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
