package dev.hostdeploy.manager.deployments;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code hostdeploy_deploy_duration_seconds{result}} (a timer: its count is the deploys per result) and
 * {@code hostdeploy_deployments{state}} (a gauge read from the store before each scrape).
 */
public final class DeployMetrics implements DeploymentService.FinishedListener {
    private final MeterRegistry registry;
    private final Deployments deployments;
    private final MultiGauge byState;

    public DeployMetrics(MeterRegistry registry, Deployments deployments) {
        this.registry = registry;
        this.deployments = deployments;
        this.byState = MultiGauge.builder("hostdeploy.deployments")
                .description("Deployments the Manager keeps, by state.").register(registry);
        for (String result : List.of(dev.hostdeploy.manager.jobs.Deploys.SUCCEEDED, dev.hostdeploy.manager.jobs.Deploys.FAILED)) {
            timer(result); // present at zero before the first deploy
        }
    }

    private Timer timer(String result) {
        return Timer.builder("hostdeploy.deploy.duration").description("Finished deploys, by result.")
                .tag("result", result).register(registry);
    }

    @Override
    public void finished(String deployment, String commit, String result, Duration duration, String error) {
        timer(result).record(duration);
    }

    /** Refreshes the gauge's rows; run before each scrape. */
    public void refresh() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        Map<String, Long> counts = deployments.countByState();
        for (String state : Deployments.STATES) {
            rows.add(MultiGauge.Row.of(Tags.of("state", state), counts.getOrDefault(state, 0L)));
        }
        byState.register(rows, true);
    }
}
