package dev.hostdeploy.manager.store;

import com.mongodb.WriteConcern;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Sorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bson.BsonDocument;
import org.bson.BsonInvalidOperationException;
import org.bson.BsonString;
import org.bson.json.JsonMode;
import org.bson.json.JsonParseException;
import org.bson.json.JsonWriterSettings;

/**
 * The whole database as JSON lines, one document a line with its collection:
 * {@code {"collection": "users", "document": {...}}}. Documents are canonical Extended JSON, so dates,
 * longs and binaries come back as the same BSON types. Indexes are not written: each repository
 * creates its own when the Manager starts.
 */
public final class Snapshot {
    private static final JsonWriterSettings CANONICAL = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();
    private static final int BATCH = 500;

    private Snapshot() {
    }

    /** Writes every collection (by name) and its documents (by {@code _id}); returns the count per collection. */
    public static Map<String, Long> export(Database db, Writer out) throws IOException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String name : collections(db)) {
            long n = 0;
            for (BsonDocument doc : db.mongo().getCollection(name, BsonDocument.class).find().sort(Sorts.ascending("_id"))) {
                out.write(new BsonDocument("collection", new BsonString(name)).append("document", doc).toJson(CANONICAL));
                out.write('\n');
                n++;
            }
            counts.put(name, n);
        }
        out.flush();
        return counts;
    }

    /**
     * Inserts every line into a database that holds no documents yet (refused otherwise: merging two
     * stores' users and tokens is not something to do by accident). Returns the count per collection.
     */
    public static Map<String, Long> importInto(Database db, BufferedReader in) throws IOException {
        for (String name : collections(db)) {
            if (db.mongo().getCollection(name).countDocuments() > 0) {
                throw new IllegalStateException("the target database is not empty (collection " + name
                        + " has documents); import only into an empty store");
            }
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        Map<String, List<BsonDocument>> pending = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            String name;
            BsonDocument doc;
            try {
                BsonDocument entry = BsonDocument.parse(line);
                name = entry.getString("collection").getValue();
                doc = entry.getDocument("document");
            } catch (JsonParseException | BsonInvalidOperationException e) {
                throw new IllegalArgumentException("line " + lineNo + " is not a {\"collection\", \"document\"} "
                        + "JSON line: " + e.getMessage(), e);
            }
            if (name.isEmpty() || name.startsWith("system.") || name.contains("$")) {
                throw new IllegalArgumentException("line " + lineNo + ": invalid collection name");
            }
            List<BsonDocument> batch = pending.computeIfAbsent(name, k -> new ArrayList<>());
            batch.add(doc);
            if (batch.size() >= BATCH) {
                insert(db, name, batch, counts);
            }
        }
        for (Map.Entry<String, List<BsonDocument>> e : pending.entrySet()) {
            insert(db, e.getKey(), e.getValue(), counts);
        }
        return counts;
    }

    private static void insert(Database db, String name, List<BsonDocument> batch, Map<String, Long> counts) {
        if (batch.isEmpty()) {
            return;
        }
        MongoCollection<BsonDocument> c = db.mongo().getCollection(name, BsonDocument.class);
        if (!db.embedded()) {
            // A backup restored is only restored once the journal has it.
            c = c.withWriteConcern(WriteConcern.MAJORITY.withJournal(true));
        }
        c.insertMany(batch);
        counts.merge(name, (long) batch.size(), Long::sum);
        batch.clear();
    }

    private static TreeSet<String> collections(Database db) {
        TreeSet<String> names = new TreeSet<>();
        for (String name : db.mongo().listCollectionNames()) {
            if (!name.startsWith("system.")) {
                names.add(name);
            }
        }
        return names;
    }
}
