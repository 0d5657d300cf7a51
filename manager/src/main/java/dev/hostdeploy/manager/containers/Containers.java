package dev.hostdeploy.manager.containers;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
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
import java.util.Set;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * The members' containers (one record each, names unique per member), the SSH ports given out (one
 * document per host and port: the _id makes a port given twice impossible), and the operations that
 * change containers, each with its steps, so a restart knows what was left half-done.
 */
public final class Containers {
    static final String CONTAINERS = "containers";
    static final String PORTS = "container_ports";
    static final String OPERATIONS = "container_operations";
    /** Per host, the last drift found between its Worker and the records (see ContainerRecovery). */
    static final String DRIFT = "container_drift";

    static final String CREATING = "creating";
    static final String RUNNING = "running";
    static final String STOPPED = "stopped";
    static final String DELETING = "deleting";
    /** States in which a job owns the container and the Worker's view may lag. */
    static final Set<String> BUSY = Set.of(CREATING, DELETING);

    static final String OP_RUNNING = "running";
    static final String OP_SUCCEEDED = "succeeded";
    static final String OP_FAILED = "failed";
    static final String OP_ROLLED_BACK = "rolled-back";

    /** One container as stored. {@code sshKeys}: the public keys it was given (public, not secret). */
    record Container(String id, String name, String ownerId, String ownerName, String hostId, String instance,
                     String image, String size, int cpus, long memoryBytes, long diskBytes, String state,
                     Integer sshPort, boolean portOpen, List<String> sshKeys, Instant createdAt,
                     Instant deleteAfter, boolean kept, String lastError) {
    }

    /** One recorded operation: create, delete, start, stop, restart, keys, offboard. */
    record Operation(String id, String containerId, String ownerId, String kind, String actor, String state,
                     List<String> steps, Instant startedAt, Instant endedAt, String error) {
    }

    private final MongoCollection<Document> containers;
    private final MongoCollection<Document> ports;
    private final MongoCollection<Document> operations;
    private final MongoCollection<Document> drift;

    public Containers(Database db) {
        this.containers = db.collection(CONTAINERS);
        this.drift = db.collection(DRIFT);
        this.ports = db.collection(PORTS);
        this.operations = db.collection(OPERATIONS);
        containers.createIndex(Indexes.ascending("ownerId", "name"), new IndexOptions().unique(true));
        containers.createIndex(Indexes.ascending("hostId"));
        ports.createIndex(Indexes.ascending("hostId", "port"), new IndexOptions().unique(true));
        ports.createIndex(Indexes.ascending("containerId"));
        operations.createIndex(Indexes.ascending("containerId"));
        operations.createIndex(Indexes.ascending("state"));
    }

    Container insert(String id, String name, String ownerId, String ownerName, String hostId, String instance,
                     String image, ContainerSize size, List<String> keys) {
        Document d = new Document("_id", id).append("name", name).append("ownerId", ownerId)
                .append("ownerName", ownerName).append("hostId", hostId).append("instance", instance)
                .append("image", image).append("size", size.name()).append("cpus", size.cpus())
                .append("memoryBytes", size.memoryBytes()).append("diskBytes", size.diskBytes())
                .append("state", CREATING).append("sshPort", null).append("portOpen", false)
                .append("sshKeys", keys).append("createdAt", new Date()).append("deleteAfter", null)
                .append("kept", false).append("lastError", null);
        try {
            containers.insertOne(d);
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("name: this member already has a container named " + name);
            }
            throw e;
        }
        return container(d);
    }

    Optional<Container> find(String id) {
        return Optional.ofNullable(containers.find(Filters.eq("_id", id)).first()).map(Containers::container);
    }

    List<Container> list(Bson filter) {
        List<Container> out = new ArrayList<>();
        for (Document d : containers.find(filter).sort(Sorts.ascending("createdAt"))) {
            out.add(container(d));
        }
        return out;
    }

    List<Container> all() {
        return list(new Document());
    }

    List<Container> byOwner(String ownerId) {
        return list(Filters.eq("ownerId", ownerId));
    }

    List<Container> byHost(String hostId) {
        return list(Filters.eq("hostId", hostId));
    }

    List<Container> inState(String state) {
        return list(Filters.eq("state", state));
    }

    List<Container> dueForDeletion(Instant now) {
        return list(Filters.and(Filters.ne("deleteAfter", null), Filters.lte("deleteAfter", Date.from(now))));
    }

    void set(String id, String field, Object value) {
        containers.updateOne(Filters.eq("_id", id), Updates.set(field, value instanceof Instant i ? Date.from(i) : value));
    }

    void state(String id, String state, String lastError) {
        containers.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("state", state),
                Updates.set("lastError", lastError)));
    }

    void delete(String id) {
        containers.deleteOne(Filters.eq("_id", id));
    }

    // ---- ports ----

    /**
     * Gives the container a free port of [min, max] on the host. The unique _id is what guarantees no
     * port is given twice, even by two Managers at once; the set read first only saves failed inserts.
     */
    int allocatePort(String hostId, String containerId, int min, int max) {
        Set<Integer> used = new java.util.HashSet<>();
        for (Document d : ports.find(Filters.eq("hostId", hostId))) {
            used.add(d.getInteger("port"));
        }
        for (int port = min; port <= max; port++) {
            if (used.contains(port)) {
                continue;
            }
            try {
                ports.insertOne(new Document("_id", hostId + ":" + port).append("hostId", hostId).append("port", port)
                        .append("containerId", containerId).append("at", new Date()));
                return port;
            } catch (MongoWriteException e) {
                if (!Store.duplicateKey(e)) {
                    throw e;
                }
            }
        }
        throw new IllegalStateException("no free port left in " + min + "-" + max + " on this host");
    }

    void freePort(String hostId, int port) {
        ports.deleteOne(Filters.eq("_id", hostId + ":" + port));
    }

    void freePorts(String containerId) {
        ports.deleteMany(Filters.eq("containerId", containerId));
    }

    List<Integer> portsOf(String containerId) {
        List<Integer> out = new ArrayList<>();
        for (Document d : ports.find(Filters.eq("containerId", containerId))) {
            out.add(d.getInteger("port"));
        }
        return out;
    }

    // ---- operations ----

    Operation begin(String containerId, String ownerId, String kind, String actor) {
        Document d = new Document("_id", Store.newId()).append("containerId", containerId).append("ownerId", ownerId)
                .append("kind", kind).append("actor", actor).append("state", OP_RUNNING).append("steps", List.of())
                .append("startedAt", new Date());
        operations.insertOne(d);
        return operation(d);
    }

    void step(String opId, String step) {
        operations.updateOne(Filters.eq("_id", opId), Updates.pushEach("steps", List.of(Instant.now() + " " + step),
                new PushOptions().slice(-500)));
    }

    void end(String opId, String state, String error) {
        operations.updateOne(Filters.eq("_id", opId), Updates.combine(Updates.set("state", state),
                Updates.set("error", error), Updates.set("endedAt", new Date())));
    }

    List<Operation> operationsOf(String containerId) {
        List<Operation> out = new ArrayList<>();
        for (Document d : operations.find(Filters.eq("containerId", containerId)).sort(Sorts.descending("startedAt"))) {
            out.add(operation(d));
        }
        return out;
    }

    List<Operation> unfinished() {
        List<Operation> out = new ArrayList<>();
        for (Document d : operations.find(Filters.eq("state", OP_RUNNING))) {
            out.add(operation(d));
        }
        return out;
    }

    /** Every host's last stored drift, by host id. */
    java.util.Map<String, ContainerApi.Drift> drifts() {
        java.util.Map<String, ContainerApi.Drift> out = new java.util.HashMap<>();
        for (Document d : drift.find()) {
            out.put(d.getString("_id"), new ContainerApi.Drift(d.getString("host"), d.getList("missing", String.class),
                    d.getList("foreign", String.class), d.getDate("checkedAt").toInstant()));
        }
        return out;
    }

    void saveDrift(String hostId, ContainerApi.Drift d) {
        drift.replaceOne(Filters.eq("_id", hostId), new Document("_id", hostId).append("host", d.host())
                .append("missing", d.missing()).append("foreign", d.foreign())
                .append("checkedAt", Date.from(d.checkedAt())), new com.mongodb.client.model.ReplaceOptions().upsert(true));
    }

    private static Operation operation(Document d) {
        Date end = d.getDate("endedAt");
        return new Operation(d.getString("_id"), d.getString("containerId"), d.getString("ownerId"), d.getString("kind"),
                d.getString("actor"), d.getString("state"), d.getList("steps", String.class, List.of()),
                d.getDate("startedAt").toInstant(), end == null ? null : end.toInstant(), d.getString("error"));
    }

    private static Container container(Document d) {
        Date after = d.getDate("deleteAfter");
        return new Container(d.getString("_id"), d.getString("name"), d.getString("ownerId"), d.getString("ownerName"),
                d.getString("hostId"), d.getString("instance"), d.getString("image"), d.getString("size"),
                d.getInteger("cpus", 0), ((Number) d.get("memoryBytes")).longValue(),
                ((Number) d.get("diskBytes")).longValue(), d.getString("state"), d.getInteger("sshPort"),
                d.getBoolean("portOpen", false), d.getList("sshKeys", String.class, List.of()),
                d.getDate("createdAt").toInstant(), after == null ? null : after.toInstant(),
                d.getBoolean("kept", false), d.getString("lastError"));
    }
}
