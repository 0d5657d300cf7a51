package dev.hostdeploy.manager.stats;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import com.mongodb.client.model.Sorts;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stats history behind the console's charts: every {@code interval} each connected Worker's
 * {@code host.stats} is sampled (CPU, memory and disk use) and kept for {@code retention}. MongoDB
 * expires samples through a TTL index; the embedded store ignores TTL indexes, so an hourly purge does it.
 * Samples are stored in one document per host and hour (arrays appended to): a week of five hosts is 840
 * documents rather than 50,400, which is what makes the week's chart quick on the embedded store.
 */
public final class StatsHistory implements AutoCloseable {
    static final String COLLECTION = "stats_samples";
    private static final Logger LOG = LoggerFactory.getLogger(StatsHistory.class);

    private final MongoCollection<Document> samples;
    private final AgentRegistry agents;
    private final Duration interval;
    private final Duration retention;
    private final Duration callTimeout;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "stats-history");
        t.setDaemon(true);
        return t;
    });

    /**
     * One host's samples, columnar so a week of minutes stays small: {@code t} holds seconds since the
     * previous sample (the first since {@code start}); {@code cpu}, {@code memory}, {@code disk} are
     * percent used with one decimal, null where unknown.
     */
    public record HostSeries(String host, String name, List<Long> t, List<Double> cpu, List<Double> memory,
                             List<Double> disk) {
    }

    public record History(Instant from, Instant to, long start, long intervalSeconds, List<HostSeries> hosts) {
    }

    public StatsHistory(Database db, AgentRegistry agents, Duration interval, Duration retention, Duration callTimeout) {
        this.samples = db.collection(COLLECTION);
        this.agents = agents;
        this.interval = interval;
        this.retention = retention;
        this.callTimeout = callTimeout;
        samples.createIndex(Indexes.ascending("host", "hour"));
        try {
            samples.createIndex(Indexes.ascending("hour"), new IndexOptions().name("hour_ttl")
                    .expireAfter(retention.plusHours(1).toSeconds(), TimeUnit.SECONDS));
        } catch (RuntimeException e) {
            LOG.debug("no TTL index on stats samples ({}); the hourly purge keeps the retention", e.toString());
        }
    }

    public void start() {
        timer.scheduleAtFixedRate(this::sampleAll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::purge, 1, 60, TimeUnit.MINUTES);
    }

    /**
     * Asks every connected Worker once, at most {@link StatsService#PARALLEL_HOSTS} at a time, then stores
     * the round's samples together; a silent or failing host just has no sample this round. One bulk write
     * per round: at 1,000 hosts one write per sample was 1,000 commits of the embedded store a minute.
     */
    void sampleAll() {
        Date now = new Date();
        Map<String, HostStats> round = new ConcurrentHashMap<>();
        Semaphore slots = new Semaphore(StatsService.PARALLEL_HOSTS);
        List<CompletableFuture<?>> calls = new ArrayList<>();
        for (HostAgents host : agents.all()) {
            if (!host.worker().connected()) {
                continue;
            }
            slots.acquireUninterruptibly();
            CompletableFuture<HostStats> call;
            try {
                call = host.workerApi().hostStats().orTimeout(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RuntimeException e) {
                slots.release();
                continue;
            }
            calls.add(call.handle((stats, e) -> {
                slots.release();
                if (e == null) {
                    round.put(host.hostId(), stats);
                } else {
                    LOG.debug("no stats sample from host {}: {}", host.hostName(), e.toString());
                }
                return null;
            }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
        recordAll(now, round);
    }

    /** Stores one sample (also used by tests and the benchmark to fill the history). */
    public void record(String hostId, Date at, HostStats s) {
        recordAll(at, Map.of(hostId, s));
    }

    /** Stores one sample per host, all taken {@code at}, in unordered bulk writes. */
    void recordAll(Date at, Map<String, HostStats> byHost) {
        long seconds = at.toInstant().getEpochSecond();
        long hour = seconds - Math.floorMod(seconds, 3600);
        List<UpdateOneModel<Document>> writes = new ArrayList<>();
        byHost.forEach((hostId, s) -> {
            Double cpu = s.cpuUsage() == null ? null : percent(s.cpuUsage());
            Double mem = s.memoryTotalBytes() <= 0 ? null : percent(1 - (double) s.memoryAvailableBytes() / s.memoryTotalBytes());
            Double disk = s.diskTotalBytes() <= 0 ? null : percent(1 - (double) s.diskFreeBytes() / s.diskTotalBytes());
            writes.add(new UpdateOneModel<>(Filters.eq("_id", hostId + "@" + hour), Updates.combine(
                    Updates.setOnInsert("host", hostId), Updates.setOnInsert("hour", new Date(hour * 1000)),
                    Updates.push("t", seconds), Updates.push("cpu", cpu), Updates.push("mem", mem),
                    Updates.push("disk", disk)), new UpdateOptions().upsert(true)));
        });
        for (int from = 0; from < writes.size(); from += Records.BATCH) {
            try {
                samples.bulkWrite(writes.subList(from, Math.min(writes.size(), from + Records.BATCH)),
                        new BulkWriteOptions().ordered(false));
            } catch (RuntimeException e) {
                LOG.warn("could not store {} stats samples: {}", Math.min(Records.BATCH, writes.size() - from), e.toString());
            }
        }
    }

    private static double percent(double share) {
        return Math.round(Math.max(0, Math.min(1, share)) * 1000) / 10.0;
    }

    public long purge() {
        try {
            // A bucket goes once its whole hour is older than the retention.
            return samples.deleteMany(Filters.lt("hour", Date.from(Instant.now().minus(retention).minus(Duration.ofHours(1)))))
                    .getDeletedCount();
        } catch (RuntimeException e) {
            LOG.warn("stats purge failed: {}", e.toString());
            return 0;
        }
    }

    public History query(String hostId, Instant from, Instant to) {
        Instant end = to == null ? Instant.now() : to;
        Instant begin = from == null ? end.minus(Duration.ofHours(1)) : from;
        if (!begin.isBefore(end)) {
            throw ProtocolException.invalid("from", "must be before to");
        }
        if (Duration.between(begin, end).compareTo(retention.plusDays(1)) > 0) {
            throw ProtocolException.invalid("from", "the range may span at most the retention (" + retention.toDays()
                    + " days) plus one day");
        }
        long first = begin.getEpochSecond();
        long last = end.getEpochSecond();
        List<org.bson.conversions.Bson> filter = new ArrayList<>();
        filter.add(Filters.gte("hour", new Date((first - Math.floorMod(first, 3600)) * 1000)));
        filter.add(Filters.lte("hour", Date.from(end)));
        if (hostId != null) {
            filter.add(Filters.eq("host", hostId));
        }
        Map<String, String> names = new LinkedHashMap<>();
        agents.all().forEach(h -> names.put(h.hostId(), h.hostName()));
        Map<String, Series> series = new LinkedHashMap<>();
        for (Document d : samples.find(Filters.and(filter)).sort(Sorts.ascending("host", "hour"))) {
            Series s = series.computeIfAbsent(d.getString("host"), h -> new Series(first));
            List<?> t = d.getList("t", Object.class);
            List<?> cpu = d.getList("cpu", Object.class);
            List<?> mem = d.getList("mem", Object.class);
            List<?> disk = d.getList("disk", Object.class);
            for (int i = 0; i < t.size(); i++) {
                long at = ((Number) t.get(i)).longValue();
                if (at >= first && at <= last) {
                    s.add(at, number(cpu.get(i)), number(mem.get(i)), number(disk.get(i)));
                }
            }
        }
        List<HostSeries> out = new ArrayList<>();
        series.forEach((host, s) -> out.add(s.finish(host, names.getOrDefault(host, host))));
        return new History(begin, end, first, interval.toSeconds(), out);
    }

    private static Double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : null;
    }

    /** One host's samples in the range, put in time order (a bucket is appended in arrival order). */
    private static final class Series {
        private record Sample(long at, Double cpu, Double mem, Double disk) {
        }

        final long start;
        final List<Sample> samples = new ArrayList<>();

        Series(long start) {
            this.start = start;
        }

        void add(long at, Double c, Double m, Double d) {
            samples.add(new Sample(at, c, m, d));
        }

        HostSeries finish(String host, String name) {
            samples.sort(java.util.Comparator.comparingLong(Sample::at));
            List<Long> t = new ArrayList<>(samples.size());
            List<Double> cpu = new ArrayList<>(samples.size());
            List<Double> mem = new ArrayList<>(samples.size());
            List<Double> disk = new ArrayList<>(samples.size());
            long previous = start;
            for (Sample x : samples) {
                t.add(x.at() - previous);
                previous = x.at();
                cpu.add(x.cpu());
                mem.add(x.mem());
                disk.add(x.disk());
            }
            return new HostSeries(host, name, t, cpu, mem, disk);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
