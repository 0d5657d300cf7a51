package dev.hostdeploy.manager.deployments;

import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change detection without webhooks: each deployment with a {@code pollInterval} has its branch head asked
 * of its Worker ({@code repo.head}) on that interval, jittered by ±10% so deployments created together do
 * not poll together, and is redeployed only when the head is a commit it has not deployed or tried. Calls
 * are asynchronous, so a slow or unreachable host delays only its own deployments, whose polls back off
 * (doubling, up to 10 minutes) while they fail.
 */
final class Poller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Poller.class);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(10);

    private final DeploymentService service;
    private final ScheduledExecutorService timer;
    private final Map<String, Schedule> schedules = new ConcurrentHashMap<>();

    private static final class Schedule {
        volatile long nextAt;
        volatile int failures;
        volatile boolean inFlight;
        /** The head this poller last deployed for, so a commit that failed is not retried every interval. */
        volatile String lastTriggered;
    }

    Poller(DeploymentService service, Duration tick) {
        this.service = service;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "poller");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            long now = System.nanoTime();
            List<Deployment> all = service.all();
            Set<String> ids = all.stream().map(Deployment::id).collect(Collectors.toSet());
            schedules.keySet().retainAll(ids);
            for (Deployment d : all) {
                if (d.pollInterval() <= 0) {
                    schedules.remove(d.id());
                    continue;
                }
                Schedule s = schedules.computeIfAbsent(d.id(), k -> {
                    Schedule fresh = new Schedule();
                    // The first poll anywhere within one interval, so a restart does not poll everything at once.
                    fresh.nextAt = now + (long) (ThreadLocalRandom.current().nextDouble() * seconds(d.pollInterval()));
                    return fresh;
                });
                boolean settled = Deployments.RUNNING.equals(d.state()) || Deployments.FAILED.equals(d.state());
                if (s.inFlight || now < s.nextAt || !settled || service.busy(d.id())) {
                    continue;
                }
                poll(d, s);
            }
        } catch (RuntimeException e) {
            LOG.warn("poll cycle failed: {}", e.toString());
        }
    }

    private void poll(Deployment d, Schedule s) {
        s.inFlight = true;
        CompletableFuture<RepoHeadResult> head;
        try {
            head = service.agents().worker(d.hostId()).repoHead(new RepoHeadRequest(d.repo(), d.ref()));
        } catch (RuntimeException e) {
            head = CompletableFuture.failedFuture(e);
        }
        head.whenComplete((r, e) -> {
            long now = System.nanoTime();
            try {
                if (e != null) {
                    s.failures++;
                    long backoff = Math.min(seconds(d.pollInterval()) << Math.min(s.failures, 16), MAX_BACKOFF.toNanos());
                    s.nextAt = now + backoff;
                    LOG.debug("poll of {} failed ({} in a row): {}", d.name(), s.failures, DeploymentService.message(e));
                    return;
                }
                s.failures = 0;
                s.nextAt = now + (long) (seconds(d.pollInterval()) * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble()));
                String commit = r.commit();
                if (commit != null && !commit.equals(s.lastTriggered) && service.polled(d.id(), commit)) {
                    s.lastTriggered = commit;
                }
            } finally {
                s.inFlight = false;
            }
        });
    }

    private static long seconds(int n) {
        return TimeUnit.SECONDS.toNanos(n);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
