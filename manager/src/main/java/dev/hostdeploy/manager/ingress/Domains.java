package dev.hostdeploy.manager.ingress;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import dev.hostdeploy.schema.ingress.Hostname;
import dev.hostdeploy.schema.ingress.IngressSchema.Tls;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * The hostnames deployments and members' containers claim: one document per hostname, keyed by it, so Mongo itself refuses a
 * second claim of one hostname (whatever Manager thread or process races for it). Each holds what its
 * route needs on reconnect: the host, the owner, and the upstream the last deploy published.
 */
public final class Domains {
    static final String COLLECTION = "domains";
    private static final Pattern SERVICE = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}");

    /**
     * A deployment's {@code domains} item: {@code {"host":"app.example.org","service":"web","port":8080}}.
     * {@code port} is the service's container port; the route goes to the host port Docker publishes it
     * on, whichever that is after each deploy. {@code tls} (acme, internal, off) defaults to the
     * Manager's {@code --domain-tls}.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Domain(String host, String service, Integer port, String tls) {
        public Domain {
            host = Hostname.parse("host", host);
            Validation.require(service != null && SERVICE.matcher(service).matches(), "service",
                    "must be the compose service's name");
            Validation.require(port != null && port >= 1 && port <= 65535, "port", "must be the service's container port, 1-65535");
            tls = tls == null ? null : Tls.parse("tls", tls).wire();
        }
    }

    /**
     * One claimed hostname as stored and shown: the upstream is null until a deploy published the port.
     * A member's container domain has {@code containerId} instead of {@code deploymentId} (and no service),
     * {@code hostPort} the loopback port its container port is exposed on, and is {@code pending} while
     * an operation adds or removes it (a Manager restart then removes what is left of it).
     */
    public record Claim(String host, String deploymentId, String owner, String hostId, String service, int port,
                        String tls, String upstream, Instant createdAt, String containerId, Integer hostPort,
                        boolean pending) {
    }

    private final MongoCollection<Document> col;

    public Domains(Database db) {
        this.col = db.collection(COLLECTION);
        col.createIndex(Indexes.ascending("deploymentId"));
        col.createIndex(Indexes.ascending("hostId"));
        col.createIndex(Indexes.ascending("containerId"));
    }

    /**
     * Claims {@code host} for a member's container, pending until its route is set; {@code conflict}
     * (409) when a deployment or a container holds it.
     */
    public void claimForContainer(String host, String containerId, String owner, String hostId, int port, String tls) {
        try {
            col.insertOne(new Document("_id", host).append("containerId", containerId).append("owner", owner)
                    .append("hostId", hostId).append("port", port).append("tls", tls).append("pending", true)
                    .append("createdAt", new Date()));
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("the hostname " + host + " is already claimed");
            }
            throw e;
        }
    }

    /**
     * Claims {@code host} for an owner that is neither a deployment nor a container (the Manager's own
     * {@code manager/api}), already with its upstream; {@code conflict} (409) when anyone holds it.
     */
    public void claimRoute(String host, String owner, String hostId, String upstream, String tls) {
        try {
            col.insertOne(new Document("_id", host).append("owner", owner).append("hostId", hostId)
                    .append("port", 0).append("tls", tls).append("upstream", upstream).append("createdAt", new Date()));
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("the hostname " + host + " is already claimed"
                        + find(host).map(c -> " by " + c.owner()).orElse(""));
            }
            throw e;
        }
    }

    public List<Claim> byOwner(String owner) {
        return list(Filters.eq("owner", owner));
    }

    /** The route of a claim moved to another host or upstream (the Manager's, after a restart with other options). */
    public void move(String host, String hostId, String upstream, String tls) {
        col.updateOne(Filters.eq("_id", host), Updates.combine(Updates.set("hostId", hostId),
                Updates.set("upstream", upstream), Updates.set("tls", tls)));
    }

    public List<Claim> byContainer(String containerId) {
        return list(Filters.eq("containerId", containerId));
    }

    /** Every container's pending claim (left by an operation a Manager restart interrupted). */
    public List<Claim> pendingOfContainers() {
        return list(Filters.and(Filters.eq("pending", true), Filters.exists("containerId")));
    }

    public void hostPort(String host, int hostPort) {
        col.updateOne(Filters.eq("_id", host), Updates.set("hostPort", hostPort));
    }

    public void pending(String host, boolean pending) {
        col.updateOne(Filters.eq("_id", host), Updates.set("pending", pending));
    }

    /** Claims {@code d.host()}; {@code conflict} (409) when another deployment (or this one twice) holds it. */
    public void claim(Domain d, String deploymentId, String owner, String hostId, String tls) {
        try {
            col.insertOne(new Document("_id", d.host()).append("deploymentId", deploymentId).append("owner", owner)
                    .append("hostId", hostId).append("service", d.service()).append("port", d.port())
                    .append("tls", tls).append("createdAt", new Date()));
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("the hostname " + d.host() + " is already claimed"
                        + find(d.host()).map(c -> " by " + c.owner()).orElse(""));
            }
            throw e;
        }
    }

    public java.util.Optional<Claim> find(String host) {
        return java.util.Optional.ofNullable(col.find(Filters.eq("_id", host)).first()).map(Domains::claim);
    }

    public List<Claim> byDeployment(String deploymentId) {
        return list(Filters.eq("deploymentId", deploymentId));
    }

    public List<Claim> byHost(String hostId) {
        return list(Filters.eq("hostId", hostId));
    }

    public List<Claim> all() {
        return list(new Document());
    }

    private List<Claim> list(org.bson.conversions.Bson filter) {
        List<Claim> out = new ArrayList<>();
        for (Document d : col.find(filter).sort(Sorts.ascending("_id"))) {
            out.add(claim(d));
        }
        return out;
    }

    public void upstream(String host, String upstream) {
        col.updateOne(Filters.eq("_id", host), Updates.set("upstream", upstream));
    }

    /** A claimed hostname now routed to another service, port or TLS mode: its upstream is found again. */
    public void change(Domain d, String tls) {
        col.updateOne(Filters.eq("_id", d.host()), Updates.combine(Updates.set("service", d.service()),
                Updates.set("port", d.port()), Updates.set("tls", tls), Updates.unset("upstream")));
    }

    public void release(String host) {
        col.deleteOne(Filters.eq("_id", host));
    }

    public void releaseAll(String deploymentId) {
        col.deleteMany(Filters.eq("deploymentId", deploymentId));
    }

    private static Claim claim(Document d) {
        return new Claim(d.getString("_id"), d.getString("deploymentId"), d.getString("owner"), d.getString("hostId"),
                d.getString("service"), d.getInteger("port", 0), d.getString("tls"), d.getString("upstream"),
                d.getDate("createdAt") == null ? null : d.getDate("createdAt").toInstant(), d.getString("containerId"),
                d.getInteger("hostPort"), d.getBoolean("pending", false));
    }
}
