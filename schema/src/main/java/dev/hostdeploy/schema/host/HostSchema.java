package dev.hostdeploy.schema.host;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** Facts about an agent's host. The Worker answers {@link #STATS}. */
public final class HostSchema {
    /** No data, to {@link HostStats}. */
    public static final String STATS = "host.stats";

    private HostSchema() {
    }

    /**
     * Load averages, CPUs, memory, the disk holding the Worker's deploy root ({@code diskPath}), and
     * Docker's container counts.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record HostStats(double load1, double load5, double load15, int cpus, long memoryTotalBytes,
                            long memoryAvailableBytes, String diskPath, long diskTotalBytes, long diskFreeBytes,
                            int containersRunning, int containersTotal) {
    }
}
