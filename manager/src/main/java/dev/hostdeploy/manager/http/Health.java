package dev.hostdeploy.manager.http;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.store.Database;
import java.util.Date;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unauthenticated health report. The database is pinged once a second in the background, so a
 * probe (or a flood of them) never waits on the database. A ping alone is not enough: an embedded store
 * whose file was closed under it (out of memory) still answers ping while every write fails. So a
 * failed store operation anywhere is reported here ({@link #storeFailed}), and a small write every few
 * seconds finds out on its own and clears the report once writes work again.
 */
public final class Health implements AutoCloseable {
    static final String PROBE_COLLECTION = "health";
    private static final int PROBE_EVERY_TICKS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(Health.class);

    private final Database db;
    private final AgentRegistry agents;
    private final MongoCollection<Document> probe;
    private final ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "db-health");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean dbOk;
    /** Why the last store operation failed, until a write succeeds again; null when writes work. */
    private volatile String storeFailure;
    private int ticks;

    record DatabaseReport(boolean ok, boolean embedded) {
    }

    record AgentsReport(long connected, long total) {
    }

    /** {@code store}: "ok", or "failing: " and why the last write failed. */
    record Report(String status, DatabaseReport database, AgentsReport agents, String store) {
        boolean ok() {
            return database.ok() && "ok".equals(store);
        }
    }

    public Health(Database db, AgentRegistry agents) {
        this.db = db;
        this.agents = agents;
        this.probe = db.collection(PROBE_COLLECTION);
        this.dbOk = db.ping();
        pinger.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    private void tick() {
        dbOk = db.ping();
        if (ticks++ % PROBE_EVERY_TICKS == 0 || storeFailure != null) {
            probeWrite();
        }
    }

    private void probeWrite() {
        try {
            probe.replaceOne(Filters.eq("_id", "probe"), new Document("_id", "probe").append("time", new Date()),
                    new ReplaceOptions().upsert(true));
            if (storeFailure != null) {
                LOG.warn("the store accepts writes again");
            }
            storeFailure = null;
        } catch (RuntimeException e) {
            storeFailed(e);
        }
    }

    /** A store operation failed: health answers 503 until a probe write succeeds. */
    public void storeFailed(RuntimeException e) {
        String why = String.valueOf(e.getMessage()).replaceAll("\\p{Cntrl}", " ");
        why = why.length() > 200 ? why.substring(0, 200) + "..." : why;
        if (storeFailure == null) {
            LOG.error("the store is failing: {}", why);
        }
        storeFailure = e.getClass().getSimpleName() + ": " + why;
    }

    Report report() {
        boolean ok = dbOk;
        String failure = storeFailure;
        String store = failure == null ? "ok" : "failing: " + failure;
        return new Report(ok && failure == null ? "ok" : "unavailable", new DatabaseReport(ok, db.embedded()),
                new AgentsReport(agents.connectedCount(), agents.agentCount()), store);
    }

    @Override
    public void close() {
        pinger.shutdownNow();
    }
}
