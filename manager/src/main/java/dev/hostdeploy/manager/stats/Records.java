package dev.hostdeploy.manager.stats;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.WriteModel;
import dev.hostdeploy.manager.store.Database;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.Document;

/**
 * The last known deployments and LXC containers of every host, as the agents reported them: kept in
 * MongoDB so ownership and state survive an agent being down, and mirrored in memory so stats and
 * metrics never wait for the database. Only changed records are written, all hosts' changes of one
 * stats round together.
 */
public final class Records {
    static final String DEPLOYMENTS = "reported_deployments";
    static final String CONTAINERS = "reported_containers";

    public enum Kind {
        DEPLOYMENT(DEPLOYMENTS), CONTAINER(CONTAINERS);

        final String collection;

        Kind(String collection) {
            this.collection = collection;
        }
    }

    /** One deployment or container; owner is null for deployments that have none. */
    public record Item(String name, String state, String owner) {
        public Item {
            Objects.requireNonNull(name, "name");
            state = state == null ? "unknown" : state;
        }
    }

    /** Operations per bulk write. */
    static final int BATCH = 500;
    /** Items of one kind kept per host. */
    static final int MAX_PER_HOST = 5_000;

    private final Database db;
    private final Map<Kind, Map<String, Map<String, Item>>> memory = new EnumMap<>(Kind.class);

    public Records(Database db) {
        this.db = db;
        db.collection(DEPLOYMENTS).createIndex(Indexes.ascending("hostId"));
        db.collection(CONTAINERS).createIndex(Indexes.ascending("hostId"));
        for (Kind k : Kind.values()) {
            memory.put(k, new ConcurrentHashMap<>());
        }
        load();
    }

    private void load() {
        for (Kind k : Kind.values()) {
            Map<String, Map<String, Item>> byHost = memory.get(k);
            for (Document d : collection(k).find()) {
                byHost.computeIfAbsent(d.getString("hostId"), h -> new HashMap<>())
                        .put(d.getString("name"), new Item(d.getString("name"), d.getString("state"), d.getString("owner")));
            }
            byHost.replaceAll((h, items) -> Map.copyOf(items));
        }
    }

    private MongoCollection<Document> collection(Kind k) {
        return db.collection(k.collection);
    }

    /** Makes the stored records of one host equal to what its agent just reported. */
    public void sync(Kind kind, String hostId, List<Item> items) {
        syncAll(kind, Map.of(hostId, items));
    }

    /**
     * Makes the stored records of these hosts equal to what their agents just reported, in as few
     * round trips as possible: the changes of all hosts go out in unordered bulk writes of at most
     * {@link #BATCH} operations, never one write per host. A host reports at most
     * {@link #MAX_PER_HOST} items of a kind; more are not stored (a runaway agent must not fill the store).
     */
    public synchronized void syncAll(Kind kind, Map<String, List<Item>> reports) {
        Date now = new Date();
        List<WriteModel<Document>> writes = new ArrayList<>();
        Map<String, Map<String, Item>> nextByHost = new HashMap<>();
        for (Map.Entry<String, List<Item>> report : reports.entrySet()) {
            String hostId = report.getKey();
            Map<String, Item> previous = memory.get(kind).getOrDefault(hostId, Map.of());
            Map<String, Item> next = new HashMap<>();
            for (Item item : report.getValue()) {
                if (next.size() >= MAX_PER_HOST) {
                    break;
                }
                next.put(item.name(), item);
                if (!item.equals(previous.get(item.name()))) {
                    writes.add(new ReplaceOneModel<>(Filters.eq("_id", hostId + "/" + item.name()),
                            new Document("_id", hostId + "/" + item.name()).append("hostId", hostId)
                                    .append("name", item.name()).append("state", item.state())
                                    .append("owner", item.owner()).append("updatedAt", now),
                            new ReplaceOptions().upsert(true)));
                }
            }
            for (String gone : previous.keySet()) {
                if (!next.containsKey(gone)) {
                    writes.add(new DeleteOneModel<>(Filters.eq("_id", hostId + "/" + gone)));
                }
            }
            nextByHost.put(hostId, next);
        }
        for (int from = 0; from < writes.size(); from += BATCH) {
            collection(kind).bulkWrite(writes.subList(from, Math.min(writes.size(), from + BATCH)),
                    new BulkWriteOptions().ordered(false));
        }
        // Memory follows the store only once the writes went through, so a failed round is retried next time.
        nextByHost.forEach((hostId, next) -> memory.get(kind).put(hostId, Map.copyOf(next)));
    }

    public synchronized void removeHost(String hostId) {
        for (Kind k : Kind.values()) {
            collection(k).deleteMany(Filters.eq("hostId", hostId));
            memory.get(k).remove(hostId);
        }
    }

    public List<Item> items(Kind kind, String hostId) {
        return List.copyOf(memory.get(kind).getOrDefault(hostId, Map.of()).values());
    }

    public Map<String, Long> countByState(Kind kind, String hostId) {
        return count(memory.get(kind).getOrDefault(hostId, Map.of()).values());
    }

    public Map<String, Long> countByState(Kind kind) {
        Map<String, Long> total = new TreeMap<>();
        for (Map<String, Item> items : memory.get(kind).values()) {
            count(items.values()).forEach((s, n) -> total.merge(s, n, Long::sum));
        }
        return total;
    }

    public long size(Kind kind) {
        return memory.get(kind).values().stream().mapToLong(Map::size).sum();
    }

    private static Map<String, Long> count(Iterable<Item> items) {
        Map<String, Long> out = new TreeMap<>();
        for (Item i : items) {
            out.merge(i.state(), 1L, Long::sum);
        }
        return out;
    }
}
