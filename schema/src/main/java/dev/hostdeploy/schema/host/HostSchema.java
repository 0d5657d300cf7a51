package dev.hostdeploy.schema.host;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.protocol.Validation;

/** Facts about an agent's host. The Worker answers {@link #STATS}. */
public final class HostSchema {
    /** No data, to {@link HostStats}. */
    public static final String STATS = "host.stats";

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
}
