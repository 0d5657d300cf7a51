package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.store.ManagerJson;
import io.javalin.Javalin;
import io.javalin.event.HandlerMetaInfo;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The REST API server: Javalin with every feature's routes, auth, audit, metrics and the error shape.
 * It serves on a socket the caller has already bound, so a busy port is found before anything is made.
 */
public final class HttpApi implements AutoCloseable {
    private static final String ROUTE_ATTRIBUTE = "hd.route";

    private final Javalin app;
    private final List<HandlerMetaInfo> registered = new CopyOnWriteArrayList<>();
    private final AuditLog audit;

    /**
     * @param tokens the caller a token belongs to, if the token is valid
     * @param features every feature's routes, in the order the OpenAPI document lists them
     */
    public HttpApi(Function<String, Optional<Caller>> tokens, FailedAuthLimiter limiter, String metricsToken,
                   Health health, Metrics metrics, AuditLog audit, String version, List<RouteGroup> features,
                   ServerSocketChannel socket) {
        this.audit = audit;
        Auth auth = new Auth(tokens, limiter, metricsToken);
        SystemRoutes system = new SystemRoutes(health, metrics, audit);
        List<Route> routes = new ArrayList<>(system.routes());
        features.forEach(f -> routes.addAll(f.routes()));
        QueuedThreadPool pool = new QueuedThreadPool(32, 4, 60_000);
        pool.setName("http");
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.jsonMapper(new JavalinJackson(ManagerJson.MAPPER, false));
            config.http.defaultContentType = "application/json";
            config.http.maxRequestSize = 1_000_000;
            config.jetty.threadPool = pool;
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
            config.events(e -> e.handlerAdded(registered::add));
        });
        Errors.install(app);
        for (Route r : routes) {
            app.addHttpHandler(r.method(), r.path(), ctx -> {
                ctx.attribute(ROUTE_ATTRIBUTE, r);
                auth.check(ctx, r.access());
                r.handler().handle(ctx);
            });
        }
        app.after(ctx -> {
            Route r = ctx.attribute(ROUTE_ATTRIBUTE);
            if (r != null && r.mutating()) {
                audit(ctx, r);
            }
        });
        system.openApi(bytes(OpenApi.document(routes, version)));
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
