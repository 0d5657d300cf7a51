package dev.hostdeploy.manager.stats;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** {@code GET /stats}: answered when the agents have, without holding a request thread meanwhile. */
public final class StatsRoutes implements RouteGroup {
    private final StatsService stats;

    public StatsRoutes(StatsService stats) {
        this.stats = stats;
    }

    @Override
    public List<Route> routes() {
        return List.of(Route.get(API + "/stats")
                .doc("getStats", "Per host: agent connectivity, host.stats, deployments and containers by state, "
                        + "open ports; and totals")
                .returns("Stats")
                .handle(ctx -> {
                    CompletableFuture<StatsService.Snapshot> snapshot = stats.get();
                    if (snapshot.isDone() && !snapshot.isCompletedExceptionally()) {
                        // The cached figures (the usual case): no need to go async.
                        ctx.contentType("application/json").result(snapshot.join().json());
                    } else {
                        ctx.future(() -> snapshot.thenAccept(s -> ctx.contentType("application/json").result(s.json())));
                    }
                }));
    }
}
