package dev.hostdeploy.manager.http;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/** The shared routes: health, the OpenAPI document, metrics and the audit log. */
final class SystemRoutes implements RouteGroup {
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Health health;
    private final Metrics metrics;
    private final AuditLog audit;
    private volatile byte[] openApi;

    SystemRoutes(Health health, Metrics metrics, AuditLog audit) {
        this.health = health;
        this.metrics = metrics;
        this.audit = audit;
    }

    void openApi(byte[] document) {
        this.openApi = document;
    }

    @Override
    public List<Route> routes() {
        return List.of(
                Route.get(API + "/health").open().doc("getHealth", "Database and agent connectivity (no auth)")
                        .returns("Health").handle(ctx -> {
                            Health.Report r = health.report();
                            ctx.status(r.ok() ? 200 : 503).json(r);
                        }),
                Route.get(API + "/openapi.json").open().doc("getOpenApi", "This OpenAPI 3 document").returns("object")
                        .handle(ctx -> ctx.contentType("application/json").result(openApi)),
                // Where Prometheus looks by default; the API path stays as an alias.
                Route.get("/metrics").metrics()
                        .doc("getMetrics", "Prometheus metrics (admin token or the dedicated metrics token)")
                        .returns("text").handle(this::metrics),
                Route.get(API + "/metrics").metrics()
                        .doc("getApiMetrics", "The same Prometheus metrics as /metrics, at the API path")
                        .returns("text").handle(this::metrics),
                Route.get(API + "/audit").doc("listAudit", "Audit entries, newest first, a page at a time").returns("AuditEntry[]")
                        .query("since", "date-time", "only entries at or after this ISO-8601 instant")
                        .query("actor", "string", "only entries of this actor (user name)")
                        .query("limit", "integer", "at most this many entries (1-1000, default 100)")
                        .query("before", "string", "the id of the last entry of the previous page: continues after it")
                        .handle(this::audit));
    }

    private void metrics(Context ctx) {
        ctx.contentType(PROMETHEUS_TEXT).result(metrics.scrape());
    }

    private void audit(Context ctx) {
        Instant since = null;
        String s = ctx.queryParam("since");
        if (s != null && !s.isBlank()) {
            try {
                since = Instant.parse(s);
            } catch (DateTimeParseException e) {
                throw ProtocolException.invalid("since", "must be an ISO-8601 instant like 2024-05-01T12:00:00Z");
            }
        }
        int limit = 100;
        String l = ctx.queryParam("limit");
        if (l != null && !l.isBlank()) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            Validation.require(limit >= 1 && limit <= 1000, "limit", "must be a number 1-1000");
        }
        String actor = ctx.queryParam("actor");
        String before = ctx.queryParam("before");
        ctx.json(audit.find(since, actor == null || actor.isBlank() ? null : actor, limit,
                before == null || before.isBlank() ? null : before));
    }
}
