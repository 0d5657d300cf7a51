package dev.hostdeploy.manager.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who did what to which target, and how it ended: one entry per mutating request and agent command.
 * Refused requests (no or a wrong token) are different: anyone can send them by the thousand, so they
 * are summed per address, reason and minute into one entry with a {@code count}, never one each.
 * Stored strings are cut to {@link #MAX_STRING} characters, and entries older than the retention go.
 */
public final class AuditLog implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicLong lastTime = new java.util.concurrent.atomic.AtomicLong();
    static final String AUDIT = "audit";
    public static final String REFUSED_ACTION = "auth.refused";
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(90);
    /** Longest string stored in an entry (a path, a target, an address). */
    public static final int MAX_STRING = 256;
    /** Distinct addresses summed per minute; refusals from further ones share one entry (address "*"). */
    static final int MAX_REFUSED_ADDRESSES = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

    private final MongoCollection<Document> audit;
    private final ConcurrentHashMap<String, Refused> refused = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> refusedThisMinute = new ConcurrentHashMap<>();
    private volatile long refusedMinute;
    private volatile Consumer<RuntimeException> onFailure = e -> { };
    private volatile Duration retention = DEFAULT_RETENTION;
    private ScheduledExecutorService jobs;

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String id, Instant time, String actor, String action, String target, String result,
                        String address, Long count) {
    }

    /** Refusals from one address for one reason in one minute, not yet written. */
    private record Refused(String id, Date first, String address, String reason, String target, AtomicLong count) {
    }

    AuditLog(Database db) {
        this.audit = db.collection(AUDIT);
        // Pages are read newest first by (time, _id): the index serves both the sort and the cursor.
        audit.createIndex(Indexes.descending("time", "_id"));
        audit.createIndex(Indexes.ascending("actor"));
    }

    /** Where write failures are reported (the health report), besides the log. */
    public void onWriteFailure(Consumer<RuntimeException> listener) {
        this.onFailure = listener;
    }

    /**
     * Starts the background work: writing summed refusals every few seconds and deleting entries older
     * than {@code retention} every hour. {@link #close} writes what is pending and stops it.
     */
    public synchronized void start(Duration retention) {
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("audit retention must be positive");
        }
        this.retention = retention;
        // A TTL index lets MongoDB expire entries itself. mongo-java-server (the embedded store) accepts
        // no TTL expiry at all (it has no expireAfterSeconds handling), so the hourly delete below is
        // what enforces the retention there; on MongoDB it is a cheap no-op beside the TTL monitor.
        try {
            audit.createIndex(Indexes.ascending("time"), new IndexOptions().name("time_ttl")
                    .expireAfter(retention.toSeconds(), TimeUnit.SECONDS));
        } catch (RuntimeException e) {
            // Most likely an index from an earlier retention: replace it.
            try {
                audit.dropIndex("time_ttl");
                audit.createIndex(Indexes.ascending("time"), new IndexOptions().name("time_ttl")
                        .expireAfter(retention.toSeconds(), TimeUnit.SECONDS));
            } catch (RuntimeException again) {
                LOG.warn("could not create the audit TTL index ({}); the hourly delete still applies", again.toString());
            }
        }
        if (jobs == null) {
            jobs = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "audit");
                t.setDaemon(true);
                return t;
            });
            jobs.scheduleWithFixedDelay(this::flushRefused, 5, 5, TimeUnit.SECONDS);
            jobs.scheduleWithFixedDelay(this::enforceRetention, 0, 1, TimeUnit.HOURS);
        }
    }

    static String bounded(String s) {
        if (s == null) {
            return null;
        }
        // Control characters from a request never reach a stored string (or a log line built from it).
        String clean = s.length() > MAX_STRING ? s.substring(0, MAX_STRING - 3) + "..." : s;
        return clean.replaceAll("\\p{Cntrl}", "?");
    }

    /**
     * The entry's time in epoch milliseconds, strictly after the previous entry's: entries written in the
     * same millisecond (a deletion and its offboarding) keep the order they happened in, since the random
     * {@code _id} that breaks ties would not.
     */
    private long nextTime() {
        return lastTime.updateAndGet(last -> Math.max(System.currentTimeMillis(), last + 1));
    }

    /** Records an entry; a failure to record is logged, never turned into a failed request. */
    public void record(String actor, String action, String target, String result, String address) {
        Document doc = new Document("_id", Store.newId()).append("time", new Date(nextTime()))
                .append("actor", bounded(actor)).append("action", bounded(action)).append("target", bounded(target))
                .append("result", bounded(result)).append("address", bounded(address));
        try {
            audit.insertOne(doc);
        } catch (RuntimeException e) {
            failed(e);
            LOG.error("could not record audit entry {} {} {} {}: {}", doc.get("actor"), doc.get("action"),
                    doc.get("target"), doc.get("result"), e.toString());
        }
    }

    /**
     * Counts one refused request (401, 429) from {@code address}: summed in memory and written as one
     * entry per address, reason and minute, the first refused path as its target.
     */
    public void refused(String address, String reason, String path) {
        long minute = System.currentTimeMillis() / 60_000;
        if (minute != refusedMinute) {
            refusedMinute = minute;
            refusedThisMinute.clear();
        }
        String from = bounded(address);
        String key = reason + " " + from;
        if (refusedThisMinute.size() >= MAX_REFUSED_ADDRESSES && !refusedThisMinute.containsKey(key)) {
            from = "*";
            key = reason + " *";
        } else {
            refusedThisMinute.put(key, Boolean.TRUE);
        }
        String id = "refused-" + minute + "-" + reason + "-" + from;
        String finalFrom = from;
        refused.computeIfAbsent(id, k -> new Refused(k, new Date(), finalFrom, reason, bounded(path), new AtomicLong()))
                .count().incrementAndGet();
    }

    /** Writes the summed refusals: one upsert per entry, adding to its count. */
    public void flushRefused() {
        for (Map.Entry<String, Refused> pending : refused.entrySet()) {
            if (!refused.remove(pending.getKey(), pending.getValue())) {
                continue;
            }
            Refused r = pending.getValue();
            try {
                audit.updateOne(Filters.eq("_id", r.id()), Updates.combine(
                        Updates.setOnInsert("time", r.first()), Updates.setOnInsert("actor", "anonymous"),
                        Updates.setOnInsert("action", REFUSED_ACTION), Updates.setOnInsert("target", r.target()),
                        Updates.setOnInsert("result", r.reason()), Updates.setOnInsert("address", r.address()),
                        Updates.inc("count", r.count().get())), new UpdateOptions().upsert(true));
            } catch (RuntimeException e) {
                failed(e);
                LOG.error("could not record {} refused requests from {}: {}", r.count().get(), r.address(), e.toString());
            }
        }
    }

    /** Deletes entries older than the retention. */
    public void enforceRetention() {
        try {
            long deleted = audit.deleteMany(Filters.lt("time", Date.from(Instant.now().minus(retention))))
                    .getDeletedCount();
            if (deleted > 0) {
                LOG.info("deleted {} audit entries older than {} days", deleted, retention.toDays());
            }
        } catch (RuntimeException e) {
            failed(e);
            LOG.error("could not delete expired audit entries: {}", e.toString());
        }
    }

    private void failed(RuntimeException e) {
        try {
            onFailure.accept(e);
        } catch (RuntimeException ignored) {
            // Reporting must not hide the original failure.
        }
    }

    /**
     * Newest first, at most {@code limit}; {@code before} (an entry's id, the last of the previous page)
     * continues after that entry, so new entries never shift the pages still to come.
     */
    public List<Entry> find(Instant since, String actor, int limit, String before) {
        flushRefused();
        List<Bson> filters = new ArrayList<>();
        if (before != null) {
            Document cursor = audit.find(Filters.eq("_id", before)).first();
            if (cursor == null) {
                throw ProtocolException.invalid("before", "names no audit entry (it may have expired)");
            }
            Date t = cursor.getDate("time");
            filters.add(Filters.or(Filters.lt("time", t), Filters.and(Filters.eq("time", t), Filters.lt("_id", before))));
        }
        if (since != null) {
            filters.add(Filters.gte("time", Date.from(since)));
        }
        if (actor != null) {
            filters.add(Filters.eq("actor", actor));
        }
        Bson filter = filters.isEmpty() ? new Document() : Filters.and(filters);
        List<Entry> out = new ArrayList<>();
        for (Document d : audit.find(filter).sort(Sorts.descending("time", "_id")).limit(limit)) {
            Number count = d.get("count", Number.class);
            out.add(new Entry(d.getString("_id"), d.getDate("time").toInstant(), d.getString("actor"),
                    d.getString("action"), d.getString("target"), d.getString("result"), d.getString("address"),
                    count == null ? null : count.longValue()));
        }
        return out;
    }

    /** Newest first. */
    public List<Entry> find(Instant since, String actor, int limit) {
        return find(since, actor, limit, null);
    }

    /** Writes pending refusals and stops the background work; the store stays open. */
    @Override
    public synchronized void close() {
        if (jobs != null) {
            jobs.shutdownNow();
            jobs = null;
        }
        flushRefused();
    }
}
