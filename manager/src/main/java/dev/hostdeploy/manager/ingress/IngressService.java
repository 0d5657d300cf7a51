package dev.hostdeploy.manager.ingress;

import static dev.hostdeploy.manager.agents.AgentErrors.cause;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianApi;
import dev.hostdeploy.manager.agents.GuardianListener;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.manager.ingress.Domains.Domain;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.ingress.Hostname;
import dev.hostdeploy.schema.ingress.IngressSchema;
import dev.hostdeploy.schema.ingress.IngressSchema.Remove;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import dev.hostdeploy.schema.ingress.IngressSchema.RouteStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deployments' domains: which hostnames they claim (unique, in {@link Domains}), checked against
 * {@code --allowed-domain-suffix} for non-admins, and their routes at the host's Guardian, which puts
 * them in Caddy. A route goes to the host port the deployment's service publishes the domain's
 * container port on, so it follows the port across redeploys. On each (re)connect of a Guardian its
 * routes are brought back to the claims (like {@code FirewallReconciler} does for ports).
 */
public final class IngressService implements GuardianListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngressService.class);
    private static final String DEPLOYMENT_KIND = "deployment";
    /** Owners whose routes all come from claims: a route of theirs no claim has is stale. */
    private static final Set<String> CLAIMING_KINDS = Set.of(DEPLOYMENT_KIND, "container", "manager");
    /** The Manager's own API and console, published at {@code --public-url} ({@code --publish-on-host}). */
    public static final Owner MANAGER_OWNER = Owner.of("manager", "api");

    /** Where the Manager publishes itself: the host (id or name), the hostname and the upstream Caddy dials. */
    private record Published(String hostRef, String host, String upstream) {
    }

    private volatile Published published;

    private final Domains domains;
    private final AgentRegistry agents;
    private final List<String> allowedSuffixes;
    private final String defaultTls;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ingress-reconcile");
        t.setDaemon(true);
        return t;
    });

    /** {@code GET /ingress}: one route as the Manager and the Guardian know it. */
    public record RouteView(String host, String hostId, String hostName, String owner, String service, Integer port,
                            String upstream, String tls, boolean active, String certificateIssuer,
                            String certificateNotAfter, String certificateError, Boolean caddyReachable) {
    }

    public IngressService(Domains domains, AgentRegistry agents, List<String> allowedSuffixes, String defaultTls) {
        this.domains = domains;
        this.agents = agents;
        this.allowedSuffixes = allowedSuffixes.stream().map(s -> Hostname.parse("--allowed-domain-suffix",
                s.startsWith(".") ? s.substring(1) : s)).toList();
        this.defaultTls = IngressSchema.Tls.parse("--domain-tls", defaultTls).wire();
    }

    /** Checks a deployment's domains: distinct hostnames, and under an allowed suffix unless an admin asks. */
    public void check(List<Domain> list, boolean admin) {
        if (list == null) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Domain d = list.get(i);
            String field = "domains[" + i + "].host";
            if (!seen.add(d.host())) {
                throw dev.hostdeploy.protocol.ProtocolException.invalid(field, "is listed twice");
            }
            if (!admin && allowedSuffixes.stream().noneMatch(s -> Hostname.under(d.host(), s))) {
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("field", field);
                details.put("rule", "allowed-domain-suffix");
                details.put("allowed", allowedSuffixes);
                throw new ApiException(422, "not_allowed", field + ": " + d.host() + " is not under an allowed suffix "
                        + allowedSuffixes + " (--allowed-domain-suffix); only an admin may choose any hostname", details);
            }
        }
    }

    /** Claims every hostname for the deployment, or none: a hostname already claimed is {@code conflict} (409). */
    public void claim(String deploymentId, Owner owner, String hostId, List<Domain> list) {
        List<String> claimed = new ArrayList<>();
        try {
            for (Domain d : list == null ? List.<Domain>of() : list) {
                domains.claim(d, deploymentId, owner.toString(), hostId, d.tls() == null ? defaultTls : d.tls());
                claimed.add(d.host());
            }
        } catch (RuntimeException e) {
            claimed.forEach(domains::release);
            throw e;
        }
    }

    /**
     * Makes {@code list} the deployment's domains: claims the new hostnames (all or none; 409 when
     * another deployment holds one), removes the route and claim of each dropped one, and marks the
     * changed ones for {@link #sync} to route again.
     */
    public void replace(String deploymentId, Owner owner, String hostId, List<Domain> list) throws Exception {
        Map<String, Claim> have = new LinkedHashMap<>();
        domains.byDeployment(deploymentId).forEach(c -> have.put(c.host(), c));
        List<Domain> added = list.stream().filter(d -> !have.containsKey(d.host())).toList();
        claim(deploymentId, owner, hostId, added);
        Set<String> keep = new HashSet<>();
        for (Domain d : list) {
            keep.add(d.host());
            Claim c = have.get(d.host());
            String tls = d.tls() == null ? defaultTls : d.tls();
            if (c != null && (!c.service().equals(d.service()) || c.port() != d.port() || !c.tls().equals(tls))) {
                domains.change(d, tls);
            }
        }
        for (Claim c : have.values()) {
            if (!keep.contains(c.host())) {
                try {
                    agents.guardian(hostId).ingressRemove(new Remove(c.host(), owner)).get(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    if (!(cause(e) instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT)) {
                        throw e;
                    }
                }
                domains.release(c.host());
            }
        }
    }

    public List<Claim> claims(String deploymentId) {
        return domains.byDeployment(deploymentId);
    }

    /** Every claim, grouped by deployment id (for listing deployments in one query). */
    public Map<String, List<Claim>> claimsByDeployment() {
        Map<String, List<Claim>> out = new HashMap<>();
        for (Claim c : domains.all()) {
            if (c.deploymentId() != null) {
                out.computeIfAbsent(c.deploymentId(), k -> new ArrayList<>()).add(c);
            }
        }
        return out;
    }

    // ---- members' container domains (the steps; ContainerService runs them as a recorded operation) ----

    /** Claims {@code host} for the container, pending; {@code conflict} (409) when anyone holds it. */
    public void claimForContainer(String host, String containerId, Owner owner, String hostId, int port) {
        domains.claimForContainer(host, containerId, owner.toString(), hostId, port, defaultTls);
    }

    public List<Claim> containerClaims(String containerId) {
        return domains.byContainer(containerId);
    }

    public java.util.Optional<Claim> claim(String host) {
        return domains.find(host);
    }

    /** Container claims an interrupted operation left pending. */
    public List<Claim> pendingContainerClaims() {
        return domains.pendingOfContainers();
    }

    public void containerHostPort(String host, int hostPort) {
        domains.hostPort(host, hostPort);
    }

    public void pending(String host, boolean pending) {
        domains.pending(host, pending);
    }

    /** Routes the claimed hostname to {@code upstream} at its host's Guardian; the claim keeps the upstream. */
    public void route(String host, String upstream) throws Exception {
        Claim c = domains.find(host).orElseThrow(() -> dev.hostdeploy.protocol.ProtocolException.notFound("no claim " + host));
        domains.upstream(host, upstream);
        agents.guardian(c.hostId()).ingressSet(route(c, upstream)).get(60, TimeUnit.SECONDS);
    }

    /**
     * Removes the hostname's route at the Guardian of {@code hostId} (if it holds one for {@code owner});
     * a Guardian without ingress has none to remove.
     */
    public void unroute(String hostId, String host, Owner owner) throws Exception {
        try {
            agents.guardian(hostId).ingressRemove(new Remove(host, owner)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (!(cause(e) instanceof AgentCallException a
                    && (a.code() == ErrorCode.CONFLICT || a.code() == ErrorCode.NOT_FOUND))) {
                throw e;
            }
        }
    }

    /** Forgets one claim (its route already removed). */
    public void releaseClaim(String host) {
        domains.release(host);
    }

    /** Forgets the deployment's claims only (its creation failed before any route existed). */
    public void unclaim(String deploymentId) {
        domains.releaseAll(deploymentId);
    }

    /**
     * After a deploy: sets each domain's route to the host port now publishing its container port and
     * removes the route of a domain whose port is no longer published. Returns what it did, for the
     * deploy's log; a Guardian that cannot be reached (or has no ingress) leaves the routes for its
     * next reconnect and the deploy stands.
     */
    public List<String> sync(String deploymentId, List<DeploySchema.Service> services) {
        List<Claim> claims = domains.byDeployment(deploymentId);
        List<String> notes = new ArrayList<>();
        for (Claim c : claims) {
            String upstream = upstream(services, c.service(), c.port());
            if (java.util.Objects.equals(upstream, c.upstream())) {
                continue;
            }
            domains.upstream(c.host(), upstream);
            try {
                GuardianApi g = agents.guardian(c.hostId());
                if (upstream == null) {
                    g.ingressRemove(new Remove(c.host(), Owner.of(c.owner()))).get(60, TimeUnit.SECONDS);
                    notes.add("domains: " + c.host() + ": service " + c.service() + " publishes no port " + c.port()
                            + "; route removed");
                } else {
                    g.ingressSet(route(c, upstream)).get(60, TimeUnit.SECONDS);
                    notes.add("domains: " + c.host() + " -> " + upstream + " (" + c.tls() + ")");
                }
            } catch (Exception e) {
                notes.add("domains: " + c.host() + ": the guardian could not be updated: " + message(e));
            }
        }
        return notes;
    }

    /**
     * A stopped deployment: its routes go (Caddy would otherwise proxy to a dead upstream) while its
     * claims stay, so nobody takes its hostnames and the next {@link #sync} (start, redeploy) routes them
     * again. The claims lose their upstream first, so a Guardian that cannot be reached now drops the
     * routes at its next reconnect. Returns what it did, for the log.
     */
    public List<String> suspend(String deploymentId, String hostId, Owner owner) {
        List<Claim> routed = domains.byDeployment(deploymentId).stream().filter(c -> c.upstream() != null).toList();
        if (routed.isEmpty()) {
            return List.of();
        }
        routed.forEach(c -> domains.upstream(c.host(), null));
        List<String> notes = new ArrayList<>();
        try {
            unrouteOwner(hostId, owner);
            routed.forEach(c -> notes.add("domains: " + c.host() + ": the deployment is stopped; route removed"));
        } catch (Exception e) {
            notes.add("domains: the guardian could not be updated (its next reconnect removes the routes): "
                    + message(e));
        }
        return notes;
    }

    /** Removes every route of {@code owner} at the host's Guardian; a Guardian without ingress has none. */
    private void unrouteOwner(String hostId, Owner owner) throws Exception {
        try {
            agents.guardian(hostId).ingressRemove(Remove.owner(owner)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (!(cause(e) instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT)) {
                throw e;
            }
        }
    }

    /** Removes the deployment's routes at its Guardian, then its claims; fails (claims kept) if the Guardian cannot. */
    public void release(String deploymentId, String hostId, Owner owner) throws Exception {
        if (domains.byDeployment(deploymentId).isEmpty()) {
            return;
        }
        unrouteOwner(hostId, owner); // a Guardian without ingress has no route to remove: the claims go
        domains.releaseAll(deploymentId);
    }

    /**
     * The host port a service publishes {@code port} on, as Caddy dials it: 127.0.0.1 for a port
     * published on all interfaces (or on loopback), else the address it is bound to; null if none.
     * Docker may publish one container port on different host ports for IPv4 and IPv6 (0.0.0.0:32871 and
     * [::]:32864), so an IPv4 binding wins and an IPv6-only one is dialled on [::1].
     */
    static String upstream(List<DeploySchema.Service> services, String service, int port) {
        String v6 = null;
        for (DeploySchema.Service s : services) {
            if (!service.equals(s.service())) {
                continue;
            }
            for (DeploySchema.Port p : s.ports()) {
                String proto = p.protocol() == null ? "tcp" : p.protocol();
                if (!proto.equals("tcp") || p.hostPort() == null || p.hostPort() <= 0 || p.containerPort() == null
                        || p.containerPort() != port) {
                    continue;
                }
                String ip = p.hostIp();
                if (ip == null || ip.isEmpty() || ip.equals("0.0.0.0")) {
                    return "127.0.0.1:" + p.hostPort();
                }
                if (!ip.contains(":")) {
                    return ip + ":" + p.hostPort();
                }
                if (v6 == null) {
                    v6 = "[" + (ip.equals("::") ? "::1" : ip) + "]:" + p.hostPort();
                }
            }
        }
        return v6;
    }

    private static Route route(Claim c, String upstream) {
        return new Route(c.host(), upstream, Owner.of(c.owner()), c.tls());
    }

    // ---- the Manager's own API and console ----

    /**
     * Publishes the Manager at {@code publicUrl}'s hostname through the Caddy of the host {@code hostRef}
     * (id or name), to {@code upstream} (the Manager's listen address as that host dials it: the same host).
     * The hostname is claimed like a deployment's (owner {@code manager/api}); the route is set on every
     * (re)connect of that host's Guardian. A null {@code hostRef} drops an earlier publication: its claim
     * goes now, its route at the Guardian's next reconnect.
     */
    public void publishManager(String hostRef, java.net.URI publicUrl, String upstream) {
        Published p = hostRef == null ? null
                : new Published(hostRef, Hostname.parse("--public-url", publicUrl.getHost()), upstream);
        for (Claim c : domains.byOwner(MANAGER_OWNER.toString())) {
            if (p == null || !c.host().equals(p.host())) {
                domains.release(c.host());
            }
        }
        published = p;
    }

    /** Claims (or moves) the Manager's hostname to this host when it is the one to publish on. */
    private void claimManager(String hostId) {
        Published p = published;
        if (p == null) {
            return;
        }
        String name = agents.get(hostId).map(HostAgents::hostName).orElse(null);
        if (!p.hostRef().equals(hostId) && !p.hostRef().equals(name)) {
            return;
        }
        Claim held = domains.find(p.host()).orElse(null);
        if (held == null) {
            domains.claimRoute(p.host(), MANAGER_OWNER.toString(), hostId, p.upstream(), defaultTls);
        } else if (held.owner().equals(MANAGER_OWNER.toString())) {
            if (!hostId.equals(held.hostId()) || !p.upstream().equals(held.upstream()) || !defaultTls.equals(held.tls())) {
                domains.move(p.host(), hostId, p.upstream(), defaultTls);
            }
        } else {
            LOG.error("--public-url {}: the hostname is claimed by {}; the Manager is not published there",
                    p.host(), held.owner());
            return;
        }
        LOG.info("publishing the Manager at https://{} through host {} -> {}", p.host(), name, p.upstream());
    }

    // ---- reconnect ----

    @Override
    public void connected(String hostId) {
        try {
            claimManager(hostId);
        } catch (RuntimeException e) {
            LOG.warn("host {}: the Manager's own route could not be claimed: {}", hostId, message(e));
        }
        reconcile(hostId).exceptionally(e -> {
            Throwable c = cause(e);
            if (c instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT) {
                LOG.debug("host {}: the guardian has no ingress", hostId);
            } else {
                LOG.warn("host {}: the ingress routes could not be reconciled on reconnect: {}", hostId, message(e));
            }
            return 0;
        });
    }

    /**
     * Brings the Guardian's routes to the claims of its host (deployments' and members' containers'):
     * sets those missing or different, removes deployment- or container-owned ones no claim has (deleted
     * meanwhile). Routes of other owners stay.
     * Returns how many changes it sent.
     */
    public CompletableFuture<Integer> reconcile(String hostId) {
        return CompletableFuture.supplyAsync(() -> agents.guardian(hostId), executor)
                .thenCompose(g -> g.ingressList().thenApplyAsync(current -> {
                    Map<String, Route> want = new LinkedHashMap<>();
                    for (Claim c : domains.byHost(hostId)) {
                        if (c.upstream() != null) {
                            want.put(c.host(), route(c, c.upstream()));
                        }
                    }
                    Map<String, Route> have = new HashMap<>();
                    current.routes().forEach(r -> have.put(r.host(), r));
                    List<CompletableFuture<?>> calls = new ArrayList<>();
                    for (Route r : want.values()) {
                        Route held = have.get(r.host());
                        if (held != null && !held.owner().equals(r.owner()) && CLAIMING_KINDS.contains(held.owner().kind())) {
                            // A stale route of a deployment deleted while this Guardian was away: the claim wins.
                            calls.add(g.ingressRemove(new Remove(r.host(), held.owner())).thenCompose(x -> g.ingressSet(r)));
                        } else if (!r.equals(held)) {
                            calls.add(g.ingressSet(r));
                        }
                    }
                    for (Route r : have.values()) {
                        if (CLAIMING_KINDS.contains(r.owner().kind()) && !want.containsKey(r.host())) {
                            calls.add(g.ingressRemove(new Remove(r.host(), r.owner())));
                        }
                    }
                    if (!calls.isEmpty()) {
                        LOG.info("host {}: restoring {} ingress route changes at the guardian", hostId, calls.size());
                    }
                    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
                    return calls.size();
                }, executor));
    }

    // ---- GET /ingress ----

    /**
     * Every route: the routed claims (a claim without an upstream has no route unless its Guardian still
     * holds one), with what each host's Guardian reports of Caddy and the certificates.
     */
    public CompletableFuture<List<RouteView>> list() {
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
            out.sort(java.util.Comparator.comparing(RouteView::host));
            return out;
        }, executor);
    }

    private static String message(Throwable e) {
        Throwable c = cause(e);
        if (c instanceof AgentCallException a) {
            return a.error().code() + ": " + a.error().message();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
