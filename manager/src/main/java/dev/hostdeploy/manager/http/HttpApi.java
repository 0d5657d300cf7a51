package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.store.ManagerJson;
import io.javalin.Javalin;
import io.javalin.event.HandlerMetaInfo;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.micrometer.core.instrument.Counter;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The REST API server: Javalin with every feature's routes, auth, audit, metrics and the error shape.
 * It serves on a socket the caller has already bound, so a busy port is found before anything is made.
 */
public final class HttpApi implements AutoCloseable {
    private static final String ROUTE_ATTRIBUTE = "hd.route";
    /** Requests refused for their token, by reason (error code). */
    static final String REFUSED = "hostdeploy.http.refused";

    private final Javalin app;
    private final List<HandlerMetaInfo> registered = new CopyOnWriteArrayList<>();
    private final AuditLog audit;
    private final Map<String, Counter> refused;

    /**
     * @param tokens the caller a token belongs to, if the token is valid
     * @param features every feature's routes, in the order the OpenAPI document lists them
     */
    public HttpApi(Function<String, Optional<Caller>> tokens, FailedAuthLimiter limiter, String metricsToken,
                   Health health, Metrics metrics, AuditLog audit, String version, List<RouteGroup> features,
                   ServerSocketChannel socket) {
        this(tokens, CookieSessions.NONE, limiter, metricsToken, health, metrics, audit, version, features, socket);
    }

    /**
     * @param sessions browser sessions, accepted where no bearer token is sent; the console's static files
     *                 (classpath {@code /console}) and WebJars are served at {@code /}
     */
    public HttpApi(Function<String, Optional<Caller>> tokens, CookieSessions sessions, FailedAuthLimiter limiter,
                   String metricsToken, Health health, Metrics metrics, AuditLog audit, String version,
                   List<RouteGroup> features, ServerSocketChannel socket) {
        this.audit = audit;
        audit.onWriteFailure(health::storeFailed);
        this.refused = Map.of(
                "unauthorized", Counter.builder(REFUSED).tag("reason", "unauthorized")
                        .description("Requests refused for a missing or wrong token").register(metrics.registry()),
                "too_many_requests", Counter.builder(REFUSED).tag("reason", "too_many_requests")
                        .description("Requests refused while their address is slowed down").register(metrics.registry()));
        Auth auth = new Auth(tokens, sessions, limiter, metricsToken);
        SystemRoutes system = new SystemRoutes(health, metrics, audit);
        List<Route> routes = new ArrayList<>(system.routes());
        features.forEach(f -> routes.addAll(f.routes()));
        QueuedThreadPool pool = new QueuedThreadPool(32, 4, 60_000);
        pool.setName("http");
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.jsonMapper(new JavalinJackson(ManagerJson.MAPPER, false));
            config.http.defaultContentType = "application/json";
            config.http.maxRequestSize = Errors.MAX_BODY;
            config.jetty.threadPool = pool;
            // maxRequestSize only checks a declared Content-Length; this bounds chunked bodies while read.
            config.jetty.modifyServletContextHandler(handler -> {
                handler.addFilter(new FilterHolder(new BodyLimit(Errors.MAX_BODY)), "/*", EnumSet.of(DispatcherType.REQUEST));
                handler.setErrorHandler(new JsonErrorHandler());
            });
            config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            config.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                try {
                    connector.open(socket);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return connector;
            });
            config.registerPlugin(metrics.plugin());
            if (HttpApi.class.getResource("/console/index.html") != null) {
                config.staticFiles.add(files -> {
                    files.hostedPath = "/";
                    files.directory = "/console";
                    files.location = Location.CLASSPATH;
                    // Module files change with releases only; revalidated so an upgrade is picked up at once.
                    files.headers = Map.of("Cache-Control", "no-cache");
                });
                config.staticFiles.enableWebjars();
            }
            config.events(e -> e.handlerAdded(registered::add));
        });
        Errors.install(app, health::storeFailed);
        app.before(SecurityHeaders::apply);
        for (Route r : routes) {
            app.addHttpHandler(r.method(), r.path(), ctx -> {
                ctx.attribute(ROUTE_ATTRIBUTE, r);
                auth.check(ctx, r.access());
                requireJsonBody(ctx, r);
                r.handler().handle(ctx);
            });
        }
        app.after(ctx -> {
            Route r = ctx.attribute(ROUTE_ATTRIBUTE);
            if (r == null) {
                return;
            }
            String code = ctx.attribute(Errors.CODE_ATTRIBUTE);
            Counter refusal = code == null ? null : refused.get(code);
            if (refusal != null) {
                // Anyone can send these by the thousand: counted, and summed in the audit log.
                refusal.increment();
                // The handler's target when it set one: a path can hold a secret (an invitation code).
                String target = ctx.attribute(Requests.TARGET_ATTRIBUTE);
                audit.refused(ctx.ip(), code, target != null ? target : ctx.path());
            } else if (r.mutating()) {
                audit(ctx, r);
            }
        });
        system.openApi(bytes(OpenApi.document(routes, version)));
    }

    /** A body, when there is one, must be declared JSON (or a form, where the route accepts one). */
    private static void requireJsonBody(Context ctx, Route route) {
        boolean hasBody = ctx.req().getContentLengthLong() > 0 || ctx.header("Transfer-Encoding") != null;
        if (!hasBody) {
            return;
        }
        String type = ctx.contentType();
        String media = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"))) {
            return;
        }
        if (route.acceptsForm() && media.equals("application/x-www-form-urlencoded")) {
            return;
        }
        throw new ApiException(415, "unsupported_media_type", "request body must be sent as Content-Type: application/json"
                + (route.acceptsForm() ? " or application/x-www-form-urlencoded" : ""));
    }

    /** Records one mutating request; agent commands are recorded by the registry with their outcome. */
    private void audit(Context ctx, Route route) {
        if (Boolean.TRUE.equals(ctx.attribute(Requests.AUDITED_ATTRIBUTE))) {
            return;
        }
        String target = ctx.attribute(Requests.TARGET_ATTRIBUTE);
        String code = ctx.attribute(Errors.CODE_ATTRIBUTE);
        String result = ctx.status().getCode() < 400 ? "ok" : code != null ? code : "http_" + ctx.status().getCode();
        audit.record(Requests.actor(ctx), route.action(), target != null ? target : ctx.path(), result, ctx.ip());
    }

    private static byte[] bytes(Object doc) {
        try {
            return ManagerJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public void start() {
        app.start();
    }

    public int port() {
        return app.port();
    }

    /** Method and path of every HTTP endpoint Javalin registered (before/after filters excluded). */
    public List<String> registeredEndpoints() {
        return registered.stream()
                .filter(h -> h.getHttpMethod().isHttpMethod())
                .map(h -> h.getHttpMethod().name() + " " + h.getPath())
                .toList();
    }

    @Override
    public void close() {
        app.stop();
    }
}
