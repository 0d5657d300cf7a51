package dev.hostdeploy.manager.ingress;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import java.util.List;

/** {@code /ingress}: the admin's view of every HTTP(S) route across the hosts. */
public final class IngressRoutes implements RouteGroup {
    private final IngressService ingress;

    public IngressRoutes(IngressService ingress) {
        this.ingress = ingress;
    }

    @Override
    public List<Route> routes() {
        return List.of(Route.get(API + "/ingress")
                .doc("listIngress", "Every route at the hosts' Caddy: hostname, owner, upstream, TLS mode and the "
                        + "certificate's issuer and expiry as each Guardian reads them")
                .returns("IngressRoute[]")
                .handle(ctx -> {
                    var listing = ingress.list();
                    ctx.future(() -> listing.thenAccept(ctx::json));
                }));
    }
}
