package dev.hostdeploy.manager.store;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import java.util.Date;
import java.util.List;
import java.util.function.Consumer;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schema version document ({@code meta/_id=schema}) and the ordered migrations that bring an older
 * database up to it. A database newer than this Manager is refused rather than half-understood.
 */
public final class Migrations {
    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
    static final String META = "meta";

    public record Migration(int version, String description, Consumer<Database> apply) {
    }

    /** Every migration this version knows, in order. Append only; never renumber. */
    public static final List<Migration> ALL = List.of(
            new Migration(1, "initial schema: users, tokens, hosts, audit", db -> { }),
            new Migration(2, "deployment and container records keyed by host and name",
                    db -> {
                        // Early builds had no records collections; nothing to convert, only a fresh start.
                        db.collection("deployments").deleteMany(Filters.exists("hostId", false));
                        db.collection("containers").deleteMany(Filters.exists("hostId", false));
                    }),
            new Migration(3, "Worker-reported records move to reported_deployments and reported_containers; "
                    + "deployments holds the desired state of each deployment",
                    db -> {
                        // Copied, not renamed: mongo-java-server and MongoDB differ in renameCollection's
                        // admin-database form, and these collections are small (one document a record).
                        move(db, "deployments", "reported_deployments");
                        move(db, "containers", "reported_containers");
                        move(db, "deployment_specs", "deployments");
                    }));

    private static void move(Database db, String from, String to) {
        // Only what exists: dropping a missing collection is an error the embedded store logs.
        if (!db.mongo().listCollectionNames().into(new java.util.ArrayList<>()).contains(from)) {
            return;
        }
        MongoCollection<Document> source = db.collection(from);
        MongoCollection<Document> target = db.collection(to);
        List<Document> batch = new java.util.ArrayList<>();
        for (Document d : source.find()) {
            batch.add(d);
            if (batch.size() == 500) {
                target.insertMany(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            target.insertMany(batch);
        }
        source.drop();
    }

    private Migrations() {
    }

    public static int latest(List<Migration> migrations) {
        return migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
    }

    public static int version(Database db) {
        Document doc = db.collection(META).find(Filters.eq("_id", "schema")).first();
        return doc == null ? 0 : doc.getInteger("version", 0);
    }

    /** Runs every migration newer than the stored version, recording the version after each one. */
    public static int migrate(Database db, List<Migration> migrations) {
        int previous = 0;
        for (Migration m : migrations) {
            if (m.version() <= previous) {
                throw new IllegalStateException("migrations out of order at version " + m.version());
            }
            previous = m.version();
        }
        int current = version(db);
        int latest = latest(migrations);
        if (current > latest) {
            throw new IllegalStateException("database schema version " + current
                    + " is newer than this Manager understands (" + latest + "); upgrade the Manager");
        }
        MongoCollection<Document> meta = db.collection(META);
        for (Migration m : migrations) {
            if (m.version() > current) {
                LOG.info("migrating database to schema version {}: {}", m.version(), m.description());
                m.apply().accept(db);
                meta.replaceOne(Filters.eq("_id", "schema"),
                        new Document("_id", "schema").append("version", m.version()).append("migratedAt", new Date()),
                        new ReplaceOptions().upsert(true));
                current = m.version();
            }
        }
        return current;
    }
}
