package dev.hostdeploy.manager.stats;

import dev.hostdeploy.manager.agents.AgentStatus;
import dev.hostdeploy.manager.stats.Records.Item;
import dev.hostdeploy.manager.stats.Records.Kind;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /stats} answers, and the counting that makes it from a round's answers: apart from
 * {@link StatsService}, which gathers the answers, so the report's shape is read in one place.
 */
public final class StatsReport {
    private StatsReport() {
    }

    /** What {@code GET /stats} serves. */
    public record Report(Instant generatedAt, List<HostReport> hosts, Totals totals, Object managed) {
    }

    /**
     * One host: its agents' connection status, the Worker's {@code host.stats}, deployments and containers
     * counted by state, the Guardian's open ports and status; {@code errors} names each query that failed
     * (its part is then null, or counted from stored records).
     */
    public record HostReport(String id, String name, Agents agents, HostStats host, Counts deployments,
                             Counts containers, OpenPorts openPorts, FirewallSchema.Status firewall,
                             Map<String, String> errors) {
    }

    public record Agents(AgentStatus worker, AgentStatus guardian) {
    }

    /** {@code source}: "live" from the agent's answer now, "stored" from the last answer kept. */
    public record Counts(String source, long total, Map<String, Long> byState) {
    }

    /** Open ports from the Guardian's rules: single ports and ranges ("8000-8010") both counted per port. */
    public record OpenPorts(List<RuleData> rules, long count, int forwards) {
        static OpenPorts of(FirewallSchema.State state) {
            long count = 0;
            for (RuleData r : state.rules()) {
                count += r.range().size();
            }
            return new OpenPorts(state.rules(), count, state.forwards().size());
        }
    }

    public record Totals(int hosts, AgentTotals agents, Map<String, Long> deployments, Map<String, Long> containers,
                         long openPorts, DockerTotals dockerContainers) {
    }

    public record AgentTotals(long connected, long total) {
    }

    public record DockerTotals(long running, long total) {
    }

    /**
     * Counts by state of what the agent just reported, as {@link Records#syncAll} keeps it (one item per
     * name, at most {@link Records#MAX_PER_HOST}), so the answer need not wait for the records' write.
     */
    static Counts live(List<Item> items) {
        Map<String, String> byName = new HashMap<>();
        for (Item item : items) {
            if (byName.size() >= Records.MAX_PER_HOST) {
                break;
            }
            byName.put(item.name(), item.state());
        }
        Map<String, Long> byState = new java.util.TreeMap<>();
        byName.values().forEach(state -> byState.merge(state, 1L, Long::sum));
        return new Counts("live", byName.size(), byState);
    }

    /** Counts by state from the stored records: the agent did not answer. */
    static Counts stored(Records records, String hostId, Kind kind) {
        Map<String, Long> byState = records.countByState(kind, hostId);
        return new Counts("stored", byState.values().stream().mapToLong(Long::longValue).sum(), byState);
    }

    static Totals totals(List<HostReport> hosts) {
        long connected = 0;
        long openPorts = 0;
        long dockerRunning = 0;
        long dockerTotal = 0;
        for (HostReport h : hosts) {
            connected += (h.agents().worker().connected() ? 1 : 0) + (h.agents().guardian().connected() ? 1 : 0);
            openPorts += h.openPorts() == null ? 0 : h.openPorts().count();
            if (h.host() != null) {
                dockerRunning += h.host().containersRunning();
                dockerTotal += h.host().containersTotal();
            }
        }
        return new Totals(hosts.size(), new AgentTotals(connected, hosts.size() * 2L),
                sum(hosts, HostReport::deployments), sum(hosts, HostReport::containers), openPorts,
                new DockerTotals(dockerRunning, dockerTotal));
    }

    private static Map<String, Long> sum(List<HostReport> hosts, java.util.function.Function<HostReport, Counts> part) {
        Map<String, Long> total = new java.util.TreeMap<>();
        for (HostReport h : hosts) {
            part.apply(h).byState().forEach((state, n) -> total.merge(state, n, Long::sum));
        }
        return total;
    }
}
