package dev.hostdeploy.manager.stats;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.http.ApiException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

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
                        ctx.future(() -> snapshot.handle((s, e) -> {
                            if (e == null) {
                                ctx.contentType("application/json").result(s.json());
                                return null;
                            }
                            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                            if (cause instanceof StatsService.StatsUnavailable) {
                                ctx.header("Retry-After", "5");
                                throw new ApiException(503, "unavailable", cause.getMessage(),
                                        Map.of("source", "manager", "retryable", true));
                            }
                            throw e instanceof CompletionException c ? c : new CompletionException(e);
                        }));
                    }
                }));
    }
}
