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
    /** The previous /proc/stat reading: {busy, total} jiffies; CPU usage is the delta to it. */
    private long[] lastCpu;

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
                nz(info.getContainersRunning()), nz(info.getContainers()), cpuUsage());
    }

    /** Busy share of all CPUs since the previous call; null on the first call or if /proc/stat is unreadable. */
    synchronized Double cpuUsage() {
        long[] now;
        try {
            now = cpuJiffies(Files.readAllLines(Path.of("/proc/stat")).get(0));
        } catch (IOException | RuntimeException e) {
            return null;
        }
        long[] before = lastCpu;
        lastCpu = now;
        if (before == null || now[1] <= before[1]) {
            return null;
        }
        double share = (double) (now[0] - before[0]) / (now[1] - before[1]);
        return Math.max(0, Math.min(1, share));
    }

    /** {busy, total} from the aggregate {@code cpu} line: idle and iowait are not busy; guest is already in user. */
    static long[] cpuJiffies(String cpuLine) {
        String[] f = cpuLine.trim().split("\\s+");
        if (!f[0].equals("cpu")) {
            throw new IllegalArgumentException("not the aggregate cpu line");
        }
        long total = 0;
        long idle = 0;
        // user nice system idle iowait irq softirq steal [guest guest_nice]
        for (int i = 1; i < Math.min(f.length, 9); i++) {
            long v = Long.parseLong(f[i]);
            total += v;
            if (i == 4 || i == 5) {
                idle += v;
            }
        }
        return new long[] {total - idle, total};
    }

    private static long kib(String meminfoLine) {
        List<String> parts = List.of(meminfoLine.trim().split("\\s+"));
        return Long.parseLong(parts.get(1)) * 1024;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
