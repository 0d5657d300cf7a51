package dev.hostdeploy.manager.jobs;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.PushOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bson.Document;

/**
 * The deploy history: one record per deploy job with what started it, its outcome and its log lines.
 * A record whose result is still {@code running} when the Manager starts was interrupted by a restart.
 */
public final class Deploys {
    static final String DEPLOYS = "deploys";
    /** The log lines kept per deploy; older ones are dropped first. */
    public static final int MAX_LINES = 5000;

    public static final String RUNNING = "running";
    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";

    /** What started a deploy. */
    public enum Trigger {
        CREATE, MANUAL, WEBHOOK, POLL, ROLLBACK;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One deploy. {@code actor}: the user, or for a webhook the delivery id. {@code result}: running,
     * succeeded or failed.
     */
    public record Deploy(String id, String deploymentId, String commit, String trigger, String actor,
                         Instant startedAt, Instant endedAt, String result, String error) {
    }

    /** {@code GET .../deploys/{id}/log}. */
    public record DeployLog(String id, String result, List<String> lines) {
    }

    private final MongoCollection<Document> deploys;

    public Deploys(Database db) {
        this.deploys = db.collection(DEPLOYS);
        deploys.createIndex(Indexes.ascending("deploymentId", "startedAt"));
        deploys.createIndex(Indexes.ascending("result"));
    }

    public Deploy start(String deploymentId, Trigger trigger, String actor) {
        Document d = new Document("_id", Store.newId()).append("deploymentId", deploymentId)
                .append("trigger", trigger.wire()).append("actor", actor).append("startedAt", new Date())
                .append("result", RUNNING).append("log", List.of());
        deploys.insertOne(d);
        return deploy(d);
    }

    public void log(String id, String line) {
        deploys.updateOne(Filters.eq("_id", id), Updates.pushEach("log", List.of(line),
                new PushOptions().slice(-MAX_LINES)));
    }

    public void finish(String id, String result, String commit, String error) {
        deploys.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("result", result),
                Updates.set("commit", commit), Updates.set("error", error), Updates.set("endedAt", new Date())));
    }

    /** Newest first, without log lines. */
    public List<Deploy> list(String deploymentId, int limit) {
        List<Deploy> out = new ArrayList<>();
        for (Document d : deploys.find(Filters.eq("deploymentId", deploymentId)).projection(Projections.exclude("log"))
                .sort(Sorts.descending("startedAt")).limit(limit)) {
            out.add(deploy(d));
        }
        return out;
    }

    public Optional<Deploy> latest(String deploymentId) {
        return list(deploymentId, 1).stream().findFirst();
    }

    public DeployLog lines(String deploymentId, String id) {
        Document d = deploys.find(Filters.and(Filters.eq("_id", id), Filters.eq("deploymentId", deploymentId))).first();
        if (d == null) {
            throw ProtocolException.notFound("no deploy " + id + " of this deployment");
        }
        return new DeployLog(id, d.getString("result"), d.getList("log", String.class, List.of()));
    }

    /** Deploys the last Manager left running: interrupted by its stop. */
    public List<Deploy> interrupted() {
        List<Deploy> out = new ArrayList<>();
        for (Document d : deploys.find(Filters.eq("result", RUNNING)).projection(Projections.exclude("log"))) {
            out.add(deploy(d));
        }
        return out;
    }

    public void deleteFor(String deploymentId) {
        deploys.deleteMany(Filters.eq("deploymentId", deploymentId));
    }

    private static Deploy deploy(Document d) {
        Date end = d.getDate("endedAt");
        return new Deploy(d.getString("_id"), d.getString("deploymentId"), d.getString("commit"), d.getString("trigger"),
                d.getString("actor"), d.getDate("startedAt").toInstant(), end == null ? null : end.toInstant(),
                d.getString("result"), d.getString("error"));
    }

    /** How many there are of each {@code result}, for stats and metrics. */
    public java.util.Map<String, Long> countByResult() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (Document d : deploys.aggregate(List.of(com.mongodb.client.model.Aggregates.group("$result",
                com.mongodb.client.model.Accumulators.sum("n", 1))))) {
            Object key = d.get("_id");
            out.put(String.valueOf(key), ((Number) d.get("n")).longValue());
        }
        return out;
    }
}
