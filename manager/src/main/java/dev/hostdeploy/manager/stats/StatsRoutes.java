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
    private final StatsHistory history;

    public StatsRoutes(StatsService stats) {
        this(stats, null);
    }

    /** @param history null: no history route */
    public StatsRoutes(StatsService stats, StatsHistory history) {
        this.stats = stats;
        this.history = history;
    }

    @Override
    public List<Route> routes() {
        List<Route> routes = new java.util.ArrayList<>();
        routes.add(Route.get(API + "/stats")
                .doc("getStats", "Per host: agent connectivity, host.stats, deployments and containers by state, "
                        + "open ports; and totals. Cached for a few seconds; Cache-Control: no-cache waits for "
                        + "figures gathered after the request")
                .returns("Stats")
                .handle(ctx -> {
                    String cacheControl = ctx.header("Cache-Control");
                    boolean fresh = cacheControl != null && cacheControl.toLowerCase(java.util.Locale.ROOT).contains("no-cache");
                    CompletableFuture<StatsService.Snapshot> snapshot = stats.get(fresh);
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
        if (history != null) {
            routes.add(Route.get(API + "/stats/history")
                    .doc("getStatsHistory", "Sampled CPU, memory and disk use per host (columnar; t as deltas in seconds)")
                    .query("host", "string", "one host's id; default every host")
                    .query("from", "date-time", "default: an hour before to")
                    .query("to", "date-time", "default: now")
                    .returns("StatsHistory")
                    .handle(ctx -> ctx.json(history.query(ctx.queryParam("host"),
                            instant(ctx.queryParam("from"), "from"), instant(ctx.queryParam("to"), "to")))));
        }
        return routes;
    }

    private static java.time.Instant instant(String value, String field) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(value).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw dev.hostdeploy.protocol.ProtocolException.invalid(field, "must be an ISO-8601 date-time, e.g. 2026-12-01T12:00:00Z");
        }
    }
}
