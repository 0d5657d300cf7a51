package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.orchestration.AgentRegistry;
import dev.hostdeploy.manager.orchestration.StatsService;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.manager.store.Store;
import io.javalin.Javalin;
import io.javalin.event.HandlerMetaInfo;

import io.javalin.json.JavalinJackson;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** The REST API server: Javalin with the route table, auth, audit, metrics and the error shape. */
public final class HttpApi implements AutoCloseable {
    private static final String ROUTE_ATTRIBUTE = "hd.route";

    private final Javalin app;
    private final List<HandlerMetaInfo> registered = new CopyOnWriteArrayList<>();
    private final List<Route> routes;
    private final Health health;

    public HttpApi(Store store, AgentRegistry agents, StatsService stats, FailedAuthLimiter limiter,
                   String metricsToken, String version) {
        Metrics metrics = new Metrics(agents, store.records());
        Auth auth = new Auth(store.users(), limiter, metricsToken);
        this.health = new Health(store.database(), agents);
        Api api = new Api(store, agents, stats, health, metrics);
        this.routes = api.routes();
        QueuedThreadPool pool = new QueuedThreadPool(32, 4, 60_000);
        pool.setName("http");
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.jsonMapper(new JavalinJackson(ManagerJson.MAPPER, false));
            config.http.defaultContentType = "application/json";
            config.http.maxRequestSize = 1_000_000;
            config.jetty.threadPool = pool;
            config.events(e -> e.handlerAdded(registered::add));
            config.requestLogger.http((ctx, ms) -> {
                Route r = ctx.attribute(ROUTE_ATTRIBUTE);
                metrics.request(ctx.method().name(), r == null ? "unmatched" : r.path(), ctx.status().getCode(),
                        ms.doubleValue() / 1000.0);
            });
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
                Api.audit(store.audit(), ctx, r);
            }
        });
        api.openApi(bytes(OpenApi.document(routes, version)));
    }

    private static byte[] bytes(Object doc) {
        try {
            return ManagerJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public void start(InetSocketAddress listen) {
        app.start(listen.getHostString(), listen.getPort());
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
        health.close();
    }

}
