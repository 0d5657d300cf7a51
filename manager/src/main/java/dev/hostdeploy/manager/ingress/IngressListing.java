package dev.hostdeploy.manager.ingress;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.manager.ingress.IngressService.RouteView;
import dev.hostdeploy.schema.ingress.IngressSchema;
import dev.hostdeploy.schema.ingress.IngressSchema.RouteStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /ingress}: the admin's view of every route, the claims joined with what each connected
 * Guardian reports of its Caddy ({@code ingress.status}: the route held, the certificate served). Read
 * only; asks every Guardian at once and answers with what came back, a Guardian that does not answer
 * leaving its routes shown without Caddy's side.
 */
final class IngressListing {
    private final Domains domains;
    private final AgentRegistry agents;
    private final ExecutorService executor;

    IngressListing(Domains domains, AgentRegistry agents, ExecutorService executor) {
        this.domains = domains;
        this.agents = agents;
        this.executor = executor;
    }

    /**
     * Every route: the routed claims (a claim without an upstream has no route unless its Guardian still
     * holds one), with what each host's Guardian reports of Caddy and the certificates.
     */
    CompletableFuture<List<RouteView>> list() {
        Map<String, CompletableFuture<IngressSchema.Status>> statuses = new LinkedHashMap<>();
        Map<String, String> names = new HashMap<>();
        for (HostAgents h : agents.all()) {
            names.put(h.hostId(), h.hostName());
            statuses.put(h.hostId(), h.guardianApi().ingressStatus().orTimeout(30, TimeUnit.SECONDS)
                    .exceptionally(e -> null));
        }
        return CompletableFuture.allOf(statuses.values().toArray(CompletableFuture[]::new)).thenApplyAsync(x -> {
            Map<String, RouteStatus> byHost = new HashMap<>();
            Map<String, Boolean> reachable = new HashMap<>();
            List<RouteView> out = new ArrayList<>();
            Set<String> claimed = new HashSet<>();
            for (var e : statuses.entrySet()) {
                IngressSchema.Status s = e.getValue().join();
                if (s != null) {
                    reachable.put(e.getKey(), s.caddyReachable());
                    s.routes().forEach(r -> byHost.put(e.getKey() + " " + r.route().host(), r));
                }
            }
            for (Claim c : domains.all()) {
                claimed.add(c.hostId() + " " + c.host());
                RouteStatus r = byHost.get(c.hostId() + " " + c.host());
                if (c.upstream() == null && r == null) {
                    continue; // claimed but not routed (a stopped deployment, a port not published): no route
                }
                // port: a deployment's service port or a container's port; none for the Manager's own route.
                out.add(new RouteView(c.host(), c.hostId(), names.get(c.hostId()), c.owner(), c.service(),
                        c.port() == 0 ? null : c.port(),
                        c.upstream(), c.tls(), r != null, r == null ? null : r.certificateIssuer(),
                        r == null ? null : r.certificateNotAfter(), r == null ? null : r.certificateError(),
                        reachable.get(c.hostId())));
            }
            // Routes set at a Guardian by others (an admin's passthrough): shown too.
            for (var e : byHost.entrySet()) {
                if (!claimed.contains(e.getKey())) {
                    RouteStatus r = e.getValue();
                    String hostId = e.getKey().substring(0, e.getKey().indexOf(' '));
                    out.add(new RouteView(r.route().host(), hostId, names.get(hostId), r.route().owner().toString(),
                            null, null, r.route().upstream(), r.route().tls(), true, r.certificateIssuer(),
                            r.certificateNotAfter(), r.certificateError(), reachable.get(hostId)));
                }
            }
            out.sort(Comparator.comparing(RouteView::host));
            return out;
        }, executor);
    }
}
