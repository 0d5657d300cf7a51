package dev.hostdeploy.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostStatsProbeTest {
    @Test
    void cpuLineSplitsIntoBusyAndTotalWithIdleAndIowaitNotBusy() {
        long[] j = HostStatsProbe.cpuJiffies("cpu  100 5 50 800 40 3 2 0 7 0");
        assertThat(j).containsExactly(160, 1000);
    }

    @Test
    void cpuUsageIsTheBusyShareBetweenTwoReadingsAndUnknownAtFirst() throws Exception {
        HostStatsProbe probe = new HostStatsProbe(java.nio.file.Path.of("/"), null);
        assertThat(probe.cpuUsage()).isNull();
        // Burn a little CPU so the second reading has a delta on any machine.
        long until = System.nanoTime() + 150_000_000L;
        while (System.nanoTime() < until) {
            Math.sqrt(System.nanoTime());
        }
        Double usage = probe.cpuUsage();
        assertThat(usage).isNotNull().isBetween(0.0, 1.0);
    }
}
