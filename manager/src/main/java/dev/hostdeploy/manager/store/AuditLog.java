package dev.hostdeploy.manager.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Who did what to which target, and how it ended: one entry per mutating request and agent command. */
public final class AuditLog {
    static final String AUDIT = "audit";
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

    private final MongoCollection<Document> audit;

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String id, Instant time, String actor, String action, String target, String result,
                        String address) {
    }

    AuditLog(Database db) {
        this.audit = db.collection(AUDIT);
        audit.createIndex(Indexes.descending("time"));
        audit.createIndex(Indexes.ascending("actor"));
    }

    /** Records an entry; a failure to record is logged, never turned into a failed request. */
    public void record(String actor, String action, String target, String result, String address) {
        Document doc = new Document("_id", Store.newId()).append("time", new Date())
                .append("actor", actor).append("action", action).append("target", target)
                .append("result", result).append("address", address);
        try {
            audit.insertOne(doc);
        } catch (RuntimeException e) {
            LOG.error("could not record audit entry {} {} {} {}: {}", actor, action, target, result, e.toString());
        }
    }

    /** Newest first. */
    public List<Entry> find(Instant since, String actor, int limit) {
        List<Bson> filters = new ArrayList<>();
        if (since != null) {
            filters.add(Filters.gte("time", Date.from(since)));
        }
        if (actor != null) {
            filters.add(Filters.eq("actor", actor));
        }
        Bson filter = filters.isEmpty() ? new Document() : Filters.and(filters);
        List<Entry> out = new ArrayList<>();
        for (Document d : audit.find(filter).sort(Sorts.descending("time")).limit(limit)) {
            out.add(new Entry(d.getString("_id"), d.getDate("time").toInstant(), d.getString("actor"),
                    d.getString("action"), d.getString("target"), d.getString("result"), d.getString("address")));
        }
        return out;
    }
}
