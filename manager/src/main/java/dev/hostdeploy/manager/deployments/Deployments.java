package dev.hostdeploy.manager.deployments;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.type.TypeReference;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.Rules;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * The desired deployments an admin created: repo, ref, compose file and host, with their env sealed by
 * {@link SecretBox}, and what the last deploy left running (state, commit, services, opened ports).
 */
public final class Deployments {
    /**
     * Not {@code deployments}: that name still holds the records Workers report (stats). Moving those
     * under a new name is a store migration still to do.
     */
    static final String COLLECTION = "deployments";
    public static final int DEFAULT_POLL = 60;
    public static final int MIN_POLL = 5;
    public static final int MAX_POLL = 86_400;

    public static final String PENDING = "pending";
    public static final String DEPLOYING = "deploying";
    public static final String RUNNING = "running";
    public static final String FAILED = "failed";
    public static final String STOPPED = "stopped";
    static final List<String> STATES = List.of(PENDING, DEPLOYING, RUNNING, FAILED, STOPPED);

    /** {@code POST /deployments}. {@code env} is write-only: no reply or log ever shows its values. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewDeployment(String name, String repo, String ref, String composePath, String host,
                                Map<String, String> env, Integer pollInterval, Map<String, List<String>> allow,
                                @com.fasterxml.jackson.annotation.JsonProperty("private") Boolean privateRepo,
                                List<dev.hostdeploy.manager.ingress.Domains.Domain> domains) {
        public NewDeployment {
            Rules.name(name, "name");
            Rules.repo(repo, "repo");
            ref = ref == null ? "main" : ref;
            Rules.ref(ref, "ref");
            Rules.composePath(composePath, "composePath");
            Validation.required(host, "host");
            Rules.env(env, "env");
            pollInterval = pollInterval == null ? DEFAULT_POLL : pollInterval;
            Validation.require(pollInterval == 0 || (pollInterval >= MIN_POLL && pollInterval <= MAX_POLL),
                    "pollInterval", "must be 0 (webhooks only) or " + MIN_POLL + "-" + MAX_POLL + " seconds");
            Rules.allow(allow, "allow");
            privateRepo = privateRepo != null && privateRepo;
            domains = domains == null ? List.of() : List.copyOf(domains);
        }

        public NewDeployment(String name, String repo, String ref, String composePath, String host,
                             Map<String, String> env, Integer pollInterval, Map<String, List<String>> allow) {
            this(name, repo, ref, composePath, host, env, pollInterval, allow, null, null);
        }

        @Override
        public String toString() {
            return "NewDeployment[name=" + name + ", repo=" + repo + ", ref=" + ref + ", host=" + host + ", env="
                    + (env == null ? null : env.keySet()) + "]";
        }
    }

    /** {@code PATCH /deployments/{name}}: any subset; {@code env} replaces all the variables. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record DeploymentPatch(String ref, String composePath, Map<String, String> env, Integer pollInterval,
                                  List<dev.hostdeploy.manager.ingress.Domains.Domain> domains) {
        public DeploymentPatch {
            Validation.require(ref != null || composePath != null || env != null || pollInterval != null
                    || domains != null, "body", "give at least one of ref, composePath, env, pollInterval, domains");
            domains = domains == null ? null : List.copyOf(domains);
            Rules.ref(ref, "ref");
            Rules.composePath(composePath, "composePath");
            Rules.env(env, "env");
            Validation.require(pollInterval == null || pollInterval == 0
                    || (pollInterval >= MIN_POLL && pollInterval <= MAX_POLL),
                    "pollInterval", "must be 0 (webhooks only) or " + MIN_POLL + "-" + MAX_POLL + " seconds");
        }

        /** Whether the next deploy would differ (pollInterval alone does not). */
        public boolean changesDeploy() {
            return ref != null || composePath != null || env != null;
        }

        @Override
        public String toString() {
            return "DeploymentPatch[ref=" + ref + ", composePath=" + composePath + ", env="
                    + (env == null ? null : env.keySet()) + ", pollInterval=" + pollInterval + ", domains=" + domains + "]";
        }
    }

    /** A port the deployment's Guardian rule opens, e.g. tcp 8080. */
    public record OpenPort(String protocol, int port) {
        String key() {
            return protocol + "/" + port;
        }

        static OpenPort parse(String key) {
            int slash = key.indexOf('/');
            return new OpenPort(key.substring(0, slash), Integer.parseInt(key.substring(slash + 1)));
        }
    }

    /**
     * A deployment as stored; {@code envSealed} and {@code deployKeySealed} (a private repo's deploy key, null
     * for a public repo) never leave the service (see {@link DeploymentService.DeploymentView}).
     */
    public record Deployment(String id, String name, String repo, String ref, String composePath, String hostId,
                             int pollInterval, Map<String, List<String>> allow, String envSealed,
                             List<String> envKeys, String state, String commit, List<DeploySchema.Service> services,
                             List<OpenPort> openPorts, String lastError, Instant createdAt, Instant updatedAt,
                             String pinnedAgainst, String deployKeySealed, String deployKeyPublic,
                             Instant deployKeyCreatedAt) {
        @Override
        public String toString() {
            return "Deployment[" + name + " " + repo + "@" + ref + " on " + hostId + ", " + state + "]";
        }
    }

    private final MongoCollection<Document> col;

    public Deployments(Database db) {
        this.col = db.collection(COLLECTION);
        col.createIndex(Indexes.ascending("name"), new IndexOptions().unique(true));
        col.createIndex(Indexes.ascending("repo"));
    }

    public Deployment insert(String id, NewDeployment req, String hostId, String envSealed) {
        Date now = new Date();
        Document d = new Document("_id", id).append("name", req.name()).append("repo", req.repo())
                .append("repoKey", req.repo().toLowerCase(java.util.Locale.ROOT)).append("ref", req.ref())
                .append("composePath", req.composePath()).append("hostId", hostId)
                .append("pollInterval", req.pollInterval()).append("allow", json(req.allow()))
                .append("envSealed", envSealed)
                .append("envKeys", req.env() == null ? List.of() : List.copyOf(new TreeMap<>(req.env()).keySet()))
                .append("state", PENDING).append("openPorts", List.of()).append("createdAt", now)
                .append("updatedAt", now);
        try {
            col.insertOne(d);
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("a deployment named " + req.name() + " already exists");
            }
            throw e;
        }
        return deployment(d);
    }

    public static String newId() {
        return Store.newId();
    }

    /** By id or by name. */
    public Optional<Deployment> find(String idOrName) {
        Document d = col.find(Filters.or(Filters.eq("_id", idOrName), Filters.eq("name", idOrName))).first();
        return Optional.ofNullable(d).map(Deployments::deployment);
    }

    public Deployment require(String idOrName) {
        return find(idOrName).orElseThrow(() -> ProtocolException.notFound("no deployment " + idOrName));
    }

    public List<Deployment> list(String hostId, String state) {
        List<Bson> filters = new ArrayList<>();
        if (hostId != null) {
            filters.add(Filters.eq("hostId", hostId));
        }
        if (state != null) {
            filters.add(Filters.eq("state", state));
        }
        List<Deployment> out = new ArrayList<>();
        for (Document d : col.find(filters.isEmpty() ? new Document() : Filters.and(filters)).sort(Sorts.ascending("name"))) {
            out.add(deployment(d));
        }
        return out;
    }

    /** Deployments following {@code repo} (any case, as GitHub treats it). */
    public List<Deployment> byRepo(String repo) {
        List<Deployment> out = new ArrayList<>();
        for (Document d : col.find(Filters.eq("repoKey", repo.toLowerCase(java.util.Locale.ROOT)))) {
            out.add(deployment(d));
        }
        return out;
    }

    public void state(String id, String state, String lastError) {
        col.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("state", state),
                Updates.set("lastError", lastError), Updates.set("updatedAt", new Date())));
    }

    /** What a finished deploy left running. */
    public void deployed(String id, String state, String commit, List<DeploySchema.Service> services, String lastError) {
        col.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("state", state), Updates.set("commit", commit),
                Updates.set("services", json(services)), Updates.set("lastError", lastError),
                Updates.set("updatedAt", new Date())));
    }

    public void patch(String id, DeploymentPatch patch, String envSealed) {
        List<Bson> set = new ArrayList<>();
        if (patch.ref() != null) {
            set.add(Updates.set("ref", patch.ref()));
        }
        if (patch.composePath() != null) {
            set.add(Updates.set("composePath", patch.composePath()));
        }
        if (patch.env() != null) {
            set.add(Updates.set("envSealed", envSealed));
            set.add(Updates.set("envKeys", List.copyOf(new TreeMap<>(patch.env()).keySet())));
        }
        if (patch.pollInterval() != null) {
            set.add(Updates.set("pollInterval", patch.pollInterval()));
        }
        set.add(Updates.set("updatedAt", new Date()));
        col.updateOne(Filters.eq("_id", id), Updates.combine(set));
    }

    /**
     * After a rollback: the branch head it was rolled back from. Until the branch moves past it (or an
     * admin redeploys) the poller leaves the deployment on the older commit. Null clears the pin.
     */
    public void pin(String id, String branchHead) {
        col.updateOne(Filters.eq("_id", id), Updates.set("pinnedAgainst", branchHead));
    }

    public void openPorts(String id, List<OpenPort> ports) {
        col.updateOne(Filters.eq("_id", id), Updates.set("openPorts", ports.stream().map(OpenPort::key).toList()));
    }

    public void delete(String id) {
        col.deleteOne(Filters.eq("_id", id));
    }

    private static String json(Object value) {
        try {
            return value == null ? null : ManagerJson.MAPPER.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return json == null ? null : ManagerJson.MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Deployment deployment(Document d) {
        List<DeploySchema.Service> services = read(d.getString("services"), new TypeReference<>() { });
        return new Deployment(d.getString("_id"), d.getString("name"), d.getString("repo"), d.getString("ref"),
                d.getString("composePath"), d.getString("hostId"), d.getInteger("pollInterval", DEFAULT_POLL),
                read(d.getString("allow"), new TypeReference<>() { }), d.getString("envSealed"),
                d.getList("envKeys", String.class, List.of()), d.getString("state"), d.getString("commit"),
                services == null ? List.of() : services,
                d.getList("openPorts", String.class, List.of()).stream().map(OpenPort::parse).toList(),
                d.getString("lastError"), d.getDate("createdAt").toInstant(), d.getDate("updatedAt").toInstant(),
                d.getString("pinnedAgainst"), d.getString("deployKeySealed"), d.getString("deployKeyPublic"),
                d.getDate("deployKeyCreatedAt") == null ? null : d.getDate("deployKeyCreatedAt").toInstant());
    }

    /** Sets (or replaces) the deployment's deploy key: sealed private key, public key line. */
    public void deployKey(String id, String sealed, String publicKey) {
        col.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("deployKeySealed", sealed),
                Updates.set("deployKeyPublic", publicKey), Updates.set("deployKeyCreatedAt", new Date()),
                Updates.set("updatedAt", new Date())));
    }

    /** How many there are of each {@code state}, for stats and metrics. */
    public java.util.Map<String, Long> countByState() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (Document d : col.aggregate(List.of(com.mongodb.client.model.Aggregates.group("$state",
                com.mongodb.client.model.Accumulators.sum("n", 1))))) {
            Object key = d.get("_id");
            out.put(String.valueOf(key), ((Number) d.get("n")).longValue());
        }
        return out;
    }
}
