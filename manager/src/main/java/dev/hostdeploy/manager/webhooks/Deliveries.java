package dev.hostdeploy.manager.webhooks;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import java.time.Duration;
import java.util.Date;
import org.bson.Document;

/** Webhook deliveries already acted on, by {@code X-GitHub-Delivery}, so a redelivery deploys nothing more. */
final class Deliveries {
    static final String COLLECTION = "webhook_deliveries";
    /** GitHub redelivers on request, within days; older ids are dropped. */
    static final Duration KEEP = Duration.ofDays(30);

    private final MongoCollection<Document> col;

    Deliveries(Database db) {
        this.col = db.collection(COLLECTION);
        col.createIndex(Indexes.ascending("at"));
    }

    /** True the first time {@code id} is seen. */
    boolean firstTime(String id, String event) {
        try {
            col.insertOne(new Document("_id", id).append("event", event).append("at", new Date()));
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                return false;
            }
            throw e;
        }
        col.deleteMany(Filters.lt("at", new Date(System.currentTimeMillis() - KEEP.toMillis())));
        return true;
    }
}
