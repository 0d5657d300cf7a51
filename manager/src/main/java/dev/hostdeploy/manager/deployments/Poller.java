package dev.hostdeploy.manager.deployments;

import dev.hostdeploy.manager.agents.AgentErrors;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadItem;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadsResult;
import java.util.ArrayList;
import java.util.HashMap;
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
 * of its Worker on that interval, jittered by ±10% so deployments created together do not poll together,
 * and is redeployed only when the head is a commit it has not deployed or tried. The deployments of a host
 * due in one tick go in one {@code repo.heads} call; calls are asynchronous and at most one per host is in
 * flight, so a slow or unreachable host delays only its own deployments, whose polls back off (doubling,
 * up to 10 minutes) while they fail.
 */
final class Poller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Poller.class);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(10);

    private final DeploymentService service;
    private final ScheduledExecutorService timer;
    private final Map<String, Schedule> schedules = new ConcurrentHashMap<>();
    /** Hosts with {@code repo.heads} batches in flight, and how many (a {@link #pollNow} may add one). */
    private final Map<String, Integer> hostsInFlight = new ConcurrentHashMap<>();

    /** What one poll of one deployment found. */
    enum Outcome { UNCHANGED, CHANGED, FAILED }

    /** {@code POST /deployments/poll}'s answer: how many deployments were asked, and what was found. */
    public record PollReport(int polled, int changed, int failed, long millis) {
    }

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
            Map<String, List<Deployment>> due = new HashMap<>();
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
                due.computeIfAbsent(d.hostId(), k -> new ArrayList<>()).add(d);
            }
            due.forEach((hostId, batch) -> {
                // A host still answering its last batch gets its due deployments in its next one.
                if (hostsInFlight.putIfAbsent(hostId, 1) == null) {
                    poll(hostId, batch.subList(0, Math.min(batch.size(), RepoHeadsRequest.MAX_HEADS)));
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("poll cycle failed: {}", e.toString());
        }
    }

    /**
     * One poll cycle now, whatever the intervals: every polled deployment that is settled, idle and not
     * being polled already, in one {@code repo.heads} per host (per 1,000), all hosts at once. Completes
     * when every host has answered (or failed); a changed head is redeployed as in a scheduled poll.
     */
    CompletableFuture<PollReport> pollNow() {
        long t0 = System.nanoTime();
        CompletableFuture<List<Outcome>> all = CompletableFuture.supplyAsync(() -> {
            Map<String, List<Deployment>> byHost = new HashMap<>();
            for (Deployment d : service.all()) {
                boolean settled = Deployments.RUNNING.equals(d.state()) || Deployments.FAILED.equals(d.state());
                if (d.pollInterval() <= 0 || !settled || service.busy(d.id())) {
                    continue;
                }
                Schedule s = schedules.computeIfAbsent(d.id(), k -> new Schedule());
                if (!s.inFlight) {
                    s.inFlight = true;
                    byHost.computeIfAbsent(d.hostId(), k -> new ArrayList<>()).add(d);
                }
            }
            return byHost;
        }, timer).thenCompose(byHost -> {
            List<CompletableFuture<List<Outcome>>> calls = new ArrayList<>();
            byHost.forEach((hostId, batch) -> {
                for (int i = 0; i < batch.size(); i += RepoHeadsRequest.MAX_HEADS) {
                    hostsInFlight.merge(hostId, 1, Integer::sum);
                    calls.add(poll(hostId, batch.subList(i, Math.min(batch.size(), i + RepoHeadsRequest.MAX_HEADS))));
                }
            });
            return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                    .thenApply(v -> calls.stream().flatMap(c -> c.join().stream()).toList());
        });
        return all.thenApply(outcomes -> new PollReport(outcomes.size(),
                (int) outcomes.stream().filter(o -> o == Outcome.CHANGED).count(),
                (int) outcomes.stream().filter(o -> o == Outcome.FAILED).count(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)));
    }

    /** One {@code repo.heads} for the host's due deployments; asynchronous, so hosts never wait on each other. */
    private CompletableFuture<List<Outcome>> poll(String hostId, List<Deployment> batch) {
        batch.forEach(d -> schedules.get(d.id()).inFlight = true);
        CompletableFuture<RepoHeadsResult> heads;
        try {
            heads = service.agents().worker(hostId).repoHeads(new RepoHeadsRequest(
                    batch.stream().map(d -> new RepoHeadRequest(d.repo(), d.ref(), service.deployKey(d))).toList()));
        } catch (RuntimeException e) {
            heads = CompletableFuture.failedFuture(e);
        }
        return heads.handle((r, e) -> {
            List<Outcome> outcomes = new ArrayList<>();
            try {
                for (int i = 0; i < batch.size(); i++) {
                    Deployment d = batch.get(i);
                    RepoHeadItem item = e == null && i < r.heads().size() ? r.heads().get(i) : null;
                    String error = e != null ? AgentErrors.message(e)
                            : item == null ? "no answer for this repo"
                            : item.error() != null ? item.error().code() + ": " + item.error().message() : null;
                    outcomes.add(settle(d, error == null ? item.commit() : null, error));
                }
            } finally {
                hostsInFlight.computeIfPresent(hostId, (k, n) -> n <= 1 ? null : n - 1);
            }
            return outcomes;
        });
    }

    private Outcome settle(Deployment d, String commit, String error) {
        Schedule s = schedules.get(d.id());
        if (s == null) {
            return Outcome.UNCHANGED; // deleted meanwhile
        }
        long now = System.nanoTime();
        try {
            if (error != null) {
                s.failures++;
                long backoff = Math.min(seconds(d.pollInterval()) << Math.min(s.failures, 16), MAX_BACKOFF.toNanos());
                s.nextAt = now + backoff;
                LOG.debug("poll of {} failed ({} in a row): {}", d.name(), s.failures, error);
                return Outcome.FAILED;
            }
            s.failures = 0;
            s.nextAt = now + (long) (seconds(d.pollInterval()) * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble()));
            if (commit != null && !commit.equals(s.lastTriggered) && service.polled(d.id(), commit)) {
                s.lastTriggered = commit;
                return Outcome.CHANGED;
            }
            return Outcome.UNCHANGED;
        } catch (RuntimeException ex) {
            LOG.warn("poll of {}: {}", d.name(), ex.toString());
            return Outcome.FAILED;
        } finally {
            s.inFlight = false;
        }
    }

    private static long seconds(int n) {
        return TimeUnit.SECONDS.toNanos(n);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
