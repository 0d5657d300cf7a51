package dev.hostdeploy.schema.host;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.protocol.Validation;
import dev.hostdeploy.schema.Owner;
import java.util.List;
import java.util.Map;

/** Facts about an agent's host. The Worker answers {@link #STATS} and {@link #SUMMARY}. */
public final class HostSchema {
    /** No data, to {@link HostStats}. */
    public static final String STATS = "host.stats";
    /**
     * No data, to {@link HostSummary}: what the Manager's statistics need of a Worker in one reply, where
     * asking {@link #STATS}, {@code deploy.list} and {@code lxc.list} took three replies of full records.
     */
    public static final String SUMMARY = "host.summary";

    private HostSchema() {
    }

    /**
     * Load averages, CPUs, memory, the disk holding the Worker's deploy root ({@code diskPath}), and
     * Docker's container counts. {@code cpuUsage}: the share of all CPUs busy (0-1) since the Worker's
     * previous reading, from /proc/stat; null on the first reading (older Workers never send it).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record HostStats(double load1, double load5, double load15, int cpus, long memoryTotalBytes,
                            long memoryAvailableBytes, String diskPath, long diskTotalBytes, long diskFreeBytes,
                            int containersRunning, int containersTotal, Double cpuUsage) {
        public HostStats {
            Validation.require(cpuUsage == null || (cpuUsage >= 0 && cpuUsage <= 1), "cpuUsage", "must be 0-1");
        }

        /** Without a CPU reading. */
        public HostStats(double load1, double load5, double load15, int cpus, long memoryTotalBytes,
                         long memoryAvailableBytes, String diskPath, long diskTotalBytes, long diskFreeBytes,
                         int containersRunning, int containersTotal) {
            this(load1, load5, load15, cpus, memoryTotalBytes, memoryAvailableBytes, diskPath, diskTotalBytes,
                    diskFreeBytes, containersRunning, containersTotal, null);
        }
    }

    /**
     * The host's figures and every deployment and LXC container by name and status. A part that could not
     * be read is null and its error is in {@code errors} under the command that reads it on its own
     * ({@code host.stats}, {@code deploy.list}, {@code lxc.list}), so one failing source (LXD down) costs
     * only its own part.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record HostSummary(HostStats stats, List<Item> deployments, List<Item> containers,
                              Map<String, ErrorData> errors) {
        public HostSummary {
            deployments = deployments == null ? null : List.copyOf(deployments);
            containers = containers == null ? null : List.copyOf(containers);
            errors = errors == null ? Map.of() : Map.copyOf(errors);
        }
    }

    /** One deployment or container in a {@link HostSummary}; {@code owner} is null for deployments. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Item(String name, String status, Owner owner) {
        public Item {
            Validation.require(name != null && !name.isBlank(), "name", "is required");
        }
    }
}
