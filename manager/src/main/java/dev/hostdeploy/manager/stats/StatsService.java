package dev.hostdeploy.manager.stats;

import static dev.hostdeploy.manager.stats.StatsReport.live;
import static dev.hostdeploy.manager.stats.StatsReport.stored;
import static dev.hostdeploy.manager.stats.StatsReport.totals;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.stats.Records.Item;
import dev.hostdeploy.manager.stats.StatsQueries.Answer;
import dev.hostdeploy.manager.stats.StatsQueries.HostAnswers;
import dev.hostdeploy.manager.stats.StatsReport.Agents;
import dev.hostdeploy.manager.stats.StatsReport.HostReport;
import dev.hostdeploy.manager.stats.StatsReport.OpenPorts;
import dev.hostdeploy.manager.stats.StatsReport.Report;
import dev.hostdeploy.manager.stats.Records.Kind;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.schema.lxc.LxcSchema;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers per-host statistics from the agents. The result is cached for {@code ttl} and serialized once,
 * so a busy dashboard costs one round of agent calls per ttl no matter how many requests it makes. A
 * snapshot older than ttl is still served (while one refresh runs in the background) up to
 * {@code maxStale}; beyond that a request waits for fresh figures.
 */
public final class StatsService {
    private static final Logger LOG = LoggerFactory.getLogger(StatsService.class);

    /** Hosts asked at once in a round: bounds the replies held in memory, whatever the number of hosts. */
    static final int PARALLEL_HOSTS = 64;
    /** What a round waits beyond one call timeout before reporting the hosts still silent as late. */
    static final Duration ROUND_SLACK = Duration.ofSeconds(1);
    /** What a request waits beyond the round for its report to be stored and serialized. */
    static final long ASSEMBLY_MARGIN_MILLIS = 20_000;
    /** Assembles rounds off the agents' I/O threads: one at a time, so at most one report is built at once. */
    private static final ExecutorService ASSEMBLY = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "stats-assembly");
        t.setDaemon(true);
        return t;
    });

    private final AgentRegistry registry;
    private final Records records;
    private final long ttlNanos;
    private final long maxStaleNanos;
    private final Duration callTimeout;
    private final StatsQueries queries;
    private final long waitMillis;
    private final AtomicReference<CompletableFuture<Snapshot>> inFlight = new AtomicReference<>();
    private volatile Snapshot snapshot;

    /** One gathered round: the JSON the API serves and when it was made. */
    public record Snapshot(byte[] json, long madeAtNanos, Instant generatedAt) {
    }

    public StatsService(AgentRegistry registry, Records records, Duration ttl, Duration callTimeout) {
        this(registry, records, ttl, callTimeout, null);
    }

    /**
     * @param wait the most a request waits for a round; null: the round's deadline plus one call timeout
     *             (the last hosts asked) plus {@link #ASSEMBLY_MARGIN_MILLIS}
     */
    public StatsService(AgentRegistry registry, Records records, Duration ttl, Duration callTimeout, Duration wait) {
        this.registry = registry;
        this.records = records;
        this.ttlNanos = ttl.toNanos();
        this.maxStaleNanos = Math.max(ttl.toNanos() * 10, Duration.ofSeconds(30).toNanos());
        this.callTimeout = callTimeout;
        this.queries = new StatsQueries(callTimeout);
        // Storing a first round's records for 1,000 hosts on a busy machine took seconds, hence the margin.
        this.waitMillis = wait != null ? wait.toMillis()
                : callTimeout.toMillis() * 2 + ROUND_SLACK.toMillis() + ASSEMBLY_MARGIN_MILLIS;
    }

    /**
     * The cached snapshot, or the one being gathered; never blocks the caller's thread. When the round
     * takes longer than the wait, the last snapshot however old (its {@code generatedAt} says so), or
     * without one a {@link StatsUnavailable}: the round goes on and serves the next request.
     */
    public CompletableFuture<Snapshot> get() {
        return get(false);
    }

    /**
     * As {@link #get()}; {@code fresh} (a request's {@code Cache-Control: no-cache}) skips the cache and
     * waits for a round that had not finished when it was asked, sharing the one in flight if any.
     */
    public CompletableFuture<Snapshot> get(boolean fresh) {
        Snapshot s = snapshot;
        long now = System.nanoTime();
        if (!fresh && s != null && now - s.madeAtNanos() < ttlNanos) {
            return CompletableFuture.completedFuture(s);
        }
        CompletableFuture<Snapshot> refresh = refresh();
        if (!fresh && s != null && now - s.madeAtNanos() < maxStaleNanos) {
            return CompletableFuture.completedFuture(s);
        }
        return refresh.copy().orTimeout(waitMillis, TimeUnit.MILLISECONDS).exceptionally(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (!(cause instanceof TimeoutException)) {
                throw e instanceof CompletionException c ? c : new CompletionException(e);
            }
            Snapshot last = snapshot;
            if (last != null) {
                return last;
            }
            LOG.info("no statistics within {} ms; the round goes on for the next request", waitMillis);
            throw new StatsUnavailable(waitMillis);
        });
    }

    /** No figures within the wait and none gathered before: the Manager's own delay, not an agent's. */
    public static final class StatsUnavailable extends RuntimeException {
        StatsUnavailable(long waitMillis) {
            super("statistics are still being gathered (no round finished within " + waitMillis + " ms); retry shortly");
        }
    }

    /** Drops the cache, e.g. after a host was added, changed or removed. */
    public void invalidate() {
        snapshot = null;
    }

    /**
     * Forgets a deleted host's stored records (the host already out of the registry). Done on the
     * assembly thread, after the record writes of rounds already answered, which skip hosts no longer
     * registered: neither brings a deleted host's records back.
     */
    public void forgetHost(String hostId) {
        try {
            ASSEMBLY.submit(() -> records.removeHost(hostId)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while forgetting host " + hostId, e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        invalidate();
    }

    /**
     * Registers {@code hostdeploy_deployments} and {@code hostdeploy_containers} by state, from the
     * latest reports; returns what refreshes their rows before a scrape.
     */
    public Runnable bindMetrics(MeterRegistry registry) {
        MultiGauge deployments = MultiGauge.builder("hostdeploy.deployments")
                .description("Deployments by state, as last reported by the Workers.").register(registry);
        MultiGauge containers = MultiGauge.builder("hostdeploy.containers")
                .description("LXC containers by state, as last reported by the Workers.").register(registry);
        return () -> {
            awaitStored();
            deployments.register(rows(Kind.DEPLOYMENT), true);
            containers.register(rows(Kind.CONTAINER), true);
        };
    }

    /**
     * Lets the records of rounds already answered reach memory first: they are written just after the
     * answer, on the assembly thread, so a scrape waits behind them (at most a few seconds).
     */
    private static void awaitStored() {
        try {
            ASSEMBLY.submit(() -> { }).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            // serve what memory holds
        }
    }

    private List<MultiGauge.Row<?>> rows(Kind kind) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        records.countByState(kind).forEach((state, n) -> rows.add(MultiGauge.Row.of(Tags.of("state", state), n)));
        return rows;
    }

    private CompletableFuture<Snapshot> refresh() {
        CompletableFuture<Snapshot> mine = new CompletableFuture<>();
        CompletableFuture<Snapshot> running = inFlight.compareAndExchange(null, mine);
        if (running != null) {
            return running;
        }
        gather().whenComplete((snap, e) -> {
            if (e != null) {
                LOG.warn("gathering stats failed: {}", e.toString());
                inFlight.set(null);
                mine.completeExceptionally(e);
            } else {
                snapshot = snap;
                inFlight.set(null);
                mine.complete(snap);
            }
        });
        return mine;
    }

    /**
     * One round: at most {@link #PARALLEL_HOSTS} hosts asked at once (each host's agents together),
     * every host that has not answered by the round's deadline reported from stored records with a
     * timeout error, and all hosts' changed records written in one batch once the answer is made.
     */
    private CompletableFuture<Snapshot> gather() {
        List<HostAgents> hosts = new ArrayList<>(registry.all());
        hosts.sort(Comparator.comparing(HostAgents::hostName));
        long deadline = System.nanoTime() + callTimeout.toNanos() + ROUND_SLACK.toNanos();
        List<CompletableFuture<HostAnswers>> perHost = new ArrayList<>(hosts.size());
        for (HostAgents h : hosts) {
            perHost.add(new CompletableFuture<>());
        }
        AtomicInteger next = new AtomicInteger();
        for (int i = 0; i < Math.min(PARALLEL_HOSTS, hosts.size()); i++) {
            askNext(hosts, perHost, next, deadline);
        }
        for (int i = 0; i < hosts.size(); i++) {
            HostAgents h = hosts.get(i);
            perHost.get(i).completeOnTimeout(HostAnswers.late(h, callTimeout), deadline - System.nanoTime(),
                    TimeUnit.NANOSECONDS);
        }
        return CompletableFuture.allOf(perHost.toArray(CompletableFuture[]::new)).thenApplyAsync(v -> {
            List<HostAnswers> answers = perHost.stream().map(CompletableFuture::join).toList();
            Instant now = Instant.now();
            List<HostReport> list = answers.stream().map(this::report).toList();
            Report report = new Report(now, list, totals(list), managed.get());
            Snapshot snap;
            try {
                snap = new Snapshot(ManagerJson.MAPPER.writeValueAsBytes(report), System.nanoTime(), now);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
            // The records are written after the answer, on this same single thread (so before the next
            // round compares against them): a first round at 1,000 hosts writes some 10,000 of them.
            ASSEMBLY.execute(() -> storeLive(answers));
            return snap;
        }, ASSEMBLY);
    }

    /** Asks the next host in line, and when it has answered (or given up), the one after. */
    private void askNext(List<HostAgents> hosts, List<CompletableFuture<HostAnswers>> results, AtomicInteger next,
                         long deadline) {
        int i = next.getAndIncrement();
        if (i >= hosts.size() || System.nanoTime() - deadline >= 0) {
            return; // the rest are reported late by the round's deadline
        }
        CompletableFuture<HostAnswers> result = results.get(i);
        queries.ask(hosts.get(i)).whenComplete((a, e) -> {
            result.complete(e == null ? a : HostAnswers.late(hosts.get(i), callTimeout));
            askNext(hosts, results, next, deadline);
        });
    }

    /** Changed deployments and containers of every host that answered, written together. */
    private void storeLive(List<HostAnswers> answers) {
        Map<String, List<Item>> deployments = new HashMap<>();
        Map<String, List<Item>> containers = new HashMap<>();
        java.util.Set<String> registered = new java.util.HashSet<>();
        registry.all().forEach(h -> registered.add(h.hostId()));
        for (HostAnswers a : answers) {
            if (!registered.contains(a.host().hostId())) {
                continue; // deleted during the round
            }
            if (a.deployments().value() != null) {
                deployments.put(a.host().hostId(), a.deployments().value());
            }
            if (a.containers().value() != null) {
                containers.put(a.host().hostId(), a.containers().value());
            }
        }
        store(Kind.DEPLOYMENT, deployments);
        store(Kind.CONTAINER, containers);
    }

    private void store(Kind kind, Map<String, List<Item>> live) {
        if (live.isEmpty()) {
            return;
        }
        try {
            records.syncAll(kind, live);
        } catch (RuntimeException e) {
            LOG.warn("could not store {} records of {} hosts: {}", kind, live.size(), e.toString());
        }
    }

    private volatile java.util.function.Supplier<Object> managed = () -> null;

    /** What {@code managed} reports: the Manager's own deployments by state and deploys by result. */
    public void managed(java.util.function.Supplier<Object> counts) {
        this.managed = counts;
    }

    private HostReport report(HostAnswers a) {
        HostAgents h = a.host();
        List<Item> deployments = a.deployments().value();
        List<Item> containers = a.containers().value();
        Map<String, String> errors = new LinkedHashMap<>();
        error(errors, HostSchema.STATS, a.stats());
        error(errors, DeploySchema.LIST, a.deployments());
        error(errors, LxcSchema.LIST, a.containers());
        error(errors, FirewallSchema.LIST, a.rules());
        error(errors, FirewallSchema.STATUS, a.status());
        FirewallSchema.State fw = a.rules().value();
        return new HostReport(h.hostId(), h.hostName(), new Agents(h.worker().status(), h.guardian().status()),
                a.stats().value(),
                deployments != null ? live(deployments) : stored(records, h.hostId(), Kind.DEPLOYMENT),
                containers != null ? live(containers) : stored(records, h.hostId(), Kind.CONTAINER),
                fw == null ? null : OpenPorts.of(fw), a.status().value(), errors);
    }

    private static void error(Map<String, String> errors, String query, Answer<?> answer) {
        if (answer.error() != null) {
            errors.put(query, answer.error());
        }
    }


}
