package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code host.stats}: load, memory, disk of the deploy root, and Docker's container counts. */
final class HostStatsProbe {
    private final Path deployRoot;
    private final Containers containers;

    HostStatsProbe(Path deployRoot, Containers containers) {
        this.deployRoot = deployRoot;
        this.containers = containers;
    }

    HostStats read() throws IOException {
        String[] load = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
        long total = 0;
        long available = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                total = kib(line);
            } else if (line.startsWith("MemAvailable:")) {
                available = kib(line);
            }
        }
        FileStore disk = Files.getFileStore(deployRoot);
        var info = containers.info();
        return new HostStats(Double.parseDouble(load[0]), Double.parseDouble(load[1]),
                Double.parseDouble(load[2]), Runtime.getRuntime().availableProcessors(), total, available,
                deployRoot.toString(), disk.getTotalSpace(), disk.getUsableSpace(),
                nz(info.getContainersRunning()), nz(info.getContainers()));
    }

    private static long kib(String meminfoLine) {
        List<String> parts = List.of(meminfoLine.trim().split("\\s+"));
        return Long.parseLong(parts.get(1)) * 1024;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
