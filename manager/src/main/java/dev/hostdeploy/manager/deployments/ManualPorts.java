package dev.hostdeploy.manager.deployments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardRemove;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.FirewallSchema.State;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * The openings and forwards an admin made through the agent passthrough (owner {@code manual/…} unless
 * the admin named another), per host, so a Guardian that lost its state gets them back on reconnect.
 */
final class ManualPorts {
    static final String COLLECTION = "firewall_manual";
    private static final String RULE = "rule";
    private static final String FORWARD = "forward";

    private final MongoCollection<Document> col;

    ManualPorts(Database db) {
        this.col = db.collection(COLLECTION);
    }

    void opened(String hostId, RuleData rule) {
        put(hostId, RULE, ruleKey(rule), rule, rule.owner());
    }

    void closed(String hostId, Close close) {
        if (close.ownerOnly()) {
            col.deleteMany(Filters.and(Filters.eq("hostId", hostId), Filters.eq("kind", RULE),
                    Filters.eq("owner", close.owner().toString())));
        } else {
            col.deleteOne(Filters.eq("_id", id(hostId, RULE, ruleKey(close.rule()))));
        }
    }

    void forwardAdded(String hostId, ForwardData forward) {
        put(hostId, FORWARD, forwardKey(forward.protocol(), forward.hostPort()), forward, forward.owner());
    }

    void forwardRemoved(String hostId, ForwardRemove remove) {
        if (remove.ownerOnly()) {
            col.deleteMany(Filters.and(Filters.eq("hostId", hostId), Filters.eq("kind", FORWARD),
                    Filters.eq("owner", remove.owner().toString())));
        } else {
            col.deleteOne(Filters.eq("_id", id(hostId, FORWARD, forwardKey(remove.protocol(), remove.hostPort()))));
        }
    }

    /** An admin replaced the whole state: what is not a deployment's is now the manual part. */
    void applied(String hostId, State state) {
        col.deleteMany(Filters.eq("hostId", hostId));
        state.rules().stream().filter(r -> !FirewallReconciler.deploymentOwned(r.owner())).forEach(r -> opened(hostId, r));
        state.forwards().stream().filter(f -> !FirewallReconciler.deploymentOwned(f.owner())).forEach(f -> forwardAdded(hostId, f));
    }

    List<RuleData> rules(String hostId) {
        return read(hostId, RULE, RuleData.class);
    }

    List<ForwardData> forwards(String hostId) {
        return read(hostId, FORWARD, ForwardData.class);
    }

    /** An opening's identity, as {@code firewall.close} matches it: everything but the comment. */
    static String ruleKey(RuleData r) {
        return r.protocol() + "|" + r.port() + "|" + r.ports() + "|" + r.source() + "|" + r.owner();
    }

    static String forwardKey(String protocol, Integer hostPort) {
        return protocol + "|" + hostPort;
    }

    private void put(String hostId, String kind, String key, Object value, Owner owner) {
        String json;
        try {
            json = Json.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        col.replaceOne(Filters.eq("_id", id(hostId, kind, key)), new Document("_id", id(hostId, kind, key))
                .append("hostId", hostId).append("kind", kind).append("owner", Objects.toString(owner, null))
                .append("value", json), new ReplaceOptions().upsert(true));
    }

    private <T> List<T> read(String hostId, String kind, Class<T> type) {
        Bson filter = Filters.and(Filters.eq("hostId", hostId), Filters.eq("kind", kind));
        List<T> out = new ArrayList<>();
        for (Document d : col.find(filter)) {
            try {
                out.add(Json.MAPPER.readValue(d.getString("value"), type));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static String id(String hostId, String kind, String key) {
        return hostId + "|" + kind + "|" + key;
    }
}
