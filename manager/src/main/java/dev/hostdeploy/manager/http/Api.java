package dev.hostdeploy.manager.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.manager.orchestration.AgentRegistry;
import dev.hostdeploy.manager.orchestration.AgentRole;
import dev.hostdeploy.manager.orchestration.HostAgents;
import dev.hostdeploy.manager.orchestration.StatsService;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.store.Hosts;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.store.Users;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The route table and its handlers. */
final class Api {
    static final String PREFIX = "/api/v1";
    static final String TARGET_ATTRIBUTE = "hd.target";
    static final String AUDITED_ATTRIBUTE = "hd.audited";
    private static final Pattern COMMAND = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-zA-Z0-9]*)*");

    private final Store store;
    private final AgentRegistry agents;
    private final StatsService stats;
    private final Health health;
    private final Metrics metrics;
    private final List<Route> routes = new ArrayList<>();
    private volatile byte[] openApi;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record AgentCommand(String command, JsonNode data, Integer timeoutSeconds) {
        AgentCommand {
            Validation.required(command, "command");
            Validation.require(COMMAND.matcher(command).matches(), "command", "must be a command name like firewall.open");
            Validation.require(timeoutSeconds == null || (timeoutSeconds >= 1 && timeoutSeconds <= 3600),
                    "timeoutSeconds", "must be 1-3600");
        }
    }

    record HostView(String id, String name, Object worker, Object guardian, Instant createdAt) {
    }

    Api(Store store, AgentRegistry agents, StatsService stats, Health health, Metrics metrics) {
        this.store = store;
        this.agents = agents;
        this.stats = stats;
        this.health = health;
        this.metrics = metrics;
        define();
    }

    List<Route> routes() {
        return routes;
    }

    private void route(HandlerType method, String path, Auth.Access access, String operationId, String summary,
                       String action, String request, String response, int status, Handler handler) {
        route(method, path, access, operationId, summary, action, request, response, status, List.of(), handler);
    }

    private void route(HandlerType method, String path, Auth.Access access, String operationId, String summary,
                       String action, String request, String response, int status, List<Route.Param> query,
                       Handler handler) {
        routes.add(new Route(method, PREFIX + path, access, operationId, summary, action, request, response, status,
                query, handler));
    }

    private void define() {
        var GET = HandlerType.GET;
        var POST = HandlerType.POST;
        var DELETE = HandlerType.DELETE;
        var PUBLIC = Auth.Access.PUBLIC;
        var MEMBER = Auth.Access.MEMBER;
        var ADMIN = Auth.Access.ADMIN;
        route(GET, "/health", PUBLIC, "getHealth", "Database and agent connectivity (no auth)", null, null, "Health", 200,
                ctx -> {
                    Health.Report r = health.report();
                    ctx.status(r.ok() ? 200 : 503).json(r);
                });
        route(GET, "/openapi.json", PUBLIC, "getOpenApi", "This OpenAPI 3 document", null, null, "object", 200,
                ctx -> ctx.contentType("application/json").result(openApi));
        route(GET, "/metrics", Auth.Access.METRICS, "getMetrics",
                "Prometheus metrics (admin token or the dedicated metrics token)", null, null, "text", 200,
                ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render()));
        route(GET, "/me", MEMBER, "getMe", "The user the token belongs to", null, null, "User", 200,
                ctx -> ctx.json(ctx.attribute(Auth.USER_ATTRIBUTE)));

        route(GET, "/users", ADMIN, "listUsers", "All users", null, null, "User[]", 200,
                ctx -> ctx.json(store.users().list()));
        route(POST, "/users", ADMIN, "createUser", "Create a user (role admin or member, default member)",
                "user.create", "NewUser", "User", 201, ctx -> {
                    Users.NewUser req = body(ctx, Users.NewUser.class);
                    ctx.attribute(TARGET_ATTRIBUTE, "user/" + req.name());
                    ctx.status(201).json(store.users().create(req));
                });
        route(GET, "/users/{id}", ADMIN, "getUser", "One user", null, null, "User", 200,
                ctx -> ctx.json(store.users().require(ctx.pathParam("id"))));
        route(DELETE, "/users/{id}", ADMIN, "deleteUser", "Delete a user and revoke all its tokens",
                "user.delete", null, null, 204, ctx -> {
                    ctx.attribute(TARGET_ATTRIBUTE, "user/" + ctx.pathParam("id"));
                    Users.User u = store.users().delete(ctx.pathParam("id"));
                    ctx.attribute(TARGET_ATTRIBUTE, "user/" + u.name());
                    ctx.status(204);
                });
        route(GET, "/users/{id}/tokens", ADMIN, "listTokens", "A user's tokens (never the token values)",
                null, null, "TokenInfo[]", 200, ctx -> ctx.json(store.users().tokens(ctx.pathParam("id"))));
        route(POST, "/users/{id}/tokens", ADMIN, "createToken",
                "Create a token for a user; the token value is shown only in this response",
                "token.create", "TokenRequest", "NewToken", 201, ctx -> {
                    Users.User u = store.users().require(ctx.pathParam("id"));
                    ctx.attribute(TARGET_ATTRIBUTE, "user/" + u.name());
                    Users.TokenRequest req = ctx.body().isBlank() ? new Users.TokenRequest(null)
                            : body(ctx, Users.TokenRequest.class);
                    Users.NewToken t = store.users().createToken(u.id(), req.name());
                    ctx.attribute(TARGET_ATTRIBUTE, "user/" + u.name() + "/token/" + t.id());
                    ctx.status(201).json(t);
                });
        route(DELETE, "/tokens/{id}", ADMIN, "revokeToken", "Revoke a token", "token.revoke", null, null, 204,
                ctx -> {
                    ctx.attribute(TARGET_ATTRIBUTE, "token/" + ctx.pathParam("id"));
                    store.users().revokeToken(ctx.pathParam("id"));
                    ctx.status(204);
                });

        route(GET, "/hosts", ADMIN, "listHosts", "Hosts with the live status of their Worker and Guardian",
                null, null, "Host[]", 200, ctx -> ctx.json(store.hosts().list().stream().map(this::view).toList()));
        route(POST, "/hosts", ADMIN, "createHost",
                "Register a host: its Worker and the Guardian assigned to it, each pinned by fingerprint",
                "host.create", "NewHost", "Host", 201, ctx -> {
                    Hosts.NewHost req = body(ctx, Hosts.NewHost.class);
                    ctx.attribute(TARGET_ATTRIBUTE, "host/" + req.name());
                    Hosts.Host host = store.hosts().create(req);
                    agents.add(host);
                    stats.invalidate();
                    ctx.status(201).json(view(host));
                });
        route(GET, "/hosts/{id}", ADMIN, "getHost", "One host with live agent status", null, null, "Host", 200,
                ctx -> ctx.json(view(store.hosts().require(ctx.pathParam("id")))));
        route(DELETE, "/hosts/{id}", ADMIN, "deleteHost",
                "Forget a host: disconnects its agents and drops its stored records", "host.delete", null, null, 204,
                ctx -> {
                    ctx.attribute(TARGET_ATTRIBUTE, "host/" + ctx.pathParam("id"));
                    Hosts.Host host = store.hosts().delete(ctx.pathParam("id"));
                    ctx.attribute(TARGET_ATTRIBUTE, "host/" + host.name());
                    agents.remove(host.id());
                    store.records().removeHost(host.id());
                    stats.invalidate();
                    ctx.status(204);
                });
        route(POST, "/hosts/{id}/agents/{agent}/commands", ADMIN, "callAgent",
                "Send one protocol command to a host's worker or guardian and return its result",
                "agent.command", "AgentCommand", "AgentResult", 200, ctx -> {
                    Hosts.Host host = store.hosts().require(ctx.pathParam("id"));
                    AgentRole role = AgentRole.fromWire(ctx.pathParam("agent"));
                    ctx.attribute(TARGET_ATTRIBUTE, "host/" + host.name() + "/" + role.wire());
                    AgentCommand req = body(ctx, AgentCommand.class);
                    Duration timeout = Duration.ofSeconds(req.timeoutSeconds() == null ? 30 : req.timeoutSeconds());
                    Object data = req.data() == null ? Map.of() : req.data();
                    ctx.attribute(AUDITED_ATTRIBUTE, true);
                    JsonNode result = agents.command(actor(ctx), ctx.ip(), host.id(), role, req.command(), data, timeout)
                            .join();
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("result", result);
                    ctx.json(out);
                });

        route(GET, "/stats", ADMIN, "getStats",
                "Per host: agent connectivity, host.stats, deployments and containers by state, open ports; and totals",
                null, null, "Stats", 200,
                ctx -> ctx.contentType("application/json").result(stats.get().json()));
        route(GET, "/audit", ADMIN, "listAudit", "Audit entries, newest first", null, null, "AuditEntry[]", 200,
                List.of(new Route.Param("since", "date-time", "only entries at or after this ISO-8601 instant"),
                        new Route.Param("actor", "string", "only entries of this actor (user name)"),
                        new Route.Param("limit", "integer", "at most this many entries (1-1000, default 100)")),
                ctx -> {
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
                    ctx.json(store.audit().find(since, actor == null || actor.isBlank() ? null : actor, limit));
                });
    }

    void openApi(byte[] document) {
        this.openApi = document;
    }

    private HostView view(Hosts.Host host) {
        HostAgents live = agents.get(host.id()).orElse(null);
        Object worker = live == null ? host.worker() : live.worker().status();
        Object guardian = live == null ? host.guardian() : live.guardian().status();
        return new HostView(host.id(), host.name(), worker, guardian, host.createdAt());
    }

    static String actor(Context ctx) {
        String a = ctx.attribute(Auth.ACTOR_ATTRIBUTE);
        return a == null ? "anonymous" : a;
    }

    static <T> T body(Context ctx, Class<T> type) {
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length == 0) {
            throw ProtocolException.invalid("body", "is required (a JSON object)");
        }
        try {
            T value = ManagerJson.MAPPER.readValue(bytes, type);
            if (value == null) {
                throw ProtocolException.invalid("body", "is required (a JSON object)");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw Errors.binding(e);
        } catch (java.io.IOException e) {
            throw new ApiException(400, "bad_request", "could not read the request body");
        }
    }

    /** Records one mutating request; agent commands are recorded by the registry with their outcome. */
    static void audit(AuditLog audit, Context ctx, Route route) {
        if (Boolean.TRUE.equals(ctx.attribute(AUDITED_ATTRIBUTE))) {
            return;
        }
        String target = ctx.attribute(TARGET_ATTRIBUTE);
        String code = ctx.attribute(Errors.CODE_ATTRIBUTE);
        String result = ctx.status().getCode() < 400 ? "ok" : code != null ? code : "http_" + ctx.status().getCode();
        audit.record(actor(ctx), route.action(), target != null ? target : ctx.path(), result, ctx.ip());
    }
}
