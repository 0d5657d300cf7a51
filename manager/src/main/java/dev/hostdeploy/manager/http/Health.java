package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.store.Database;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The unauthenticated health report. The database is pinged once a second in the background, so a
 * probe (or a flood of them) never waits on the database.
 */
public final class Health implements AutoCloseable {
    private final Database db;
    private final AgentRegistry agents;
    private final ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "db-health");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean dbOk;

    record DatabaseReport(boolean ok, boolean embedded) {
    }

    record AgentsReport(long connected, long total) {
    }

    record Report(String status, DatabaseReport database, AgentsReport agents) {
        boolean ok() {
            return database.ok();
        }
    }

    public Health(Database db, AgentRegistry agents) {
        this.db = db;
        this.agents = agents;
        this.dbOk = db.ping();
        pinger.scheduleWithFixedDelay(() -> dbOk = db.ping(), 1, 1, TimeUnit.SECONDS);
    }

    Report report() {
        boolean ok = dbOk;
        return new Report(ok ? "ok" : "unavailable", new DatabaseReport(ok, db.embedded()),
                new AgentsReport(agents.connectedCount(), agents.agentCount()));
    }

    @Override
    public void close() {
        pinger.shutdownNow();
    }
}
