package dev.hostdeploy.manager.ingress;

import static dev.hostdeploy.manager.agents.AgentErrors.cause;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianListener;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.manager.ingress.Domains.Domain;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.ingress.Hostname;
import dev.hostdeploy.schema.ingress.IngressSchema;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ingress, as the other features and the routes see it: the one entry point for hostnames and their
 * routes through the hosts' Caddy. It owns the claims (unique hostnames in {@link Domains}, checked against
 * {@code --allowed-domain-suffix} for non-admins, claimed all or none) and what a route should be (the host
 * port a deployment's service publishes the domain's container port on, so it follows the port across
 * redeploys), and keeps claims and routes in step in the right order: claimed before routed, unrouted
 * before released. Talking to the Guardians is {@link GuardianRoutes}'s (including bringing a reconnected
 * Guardian back to the claims, as {@code FirewallReconciler} does for ports), {@code GET /ingress} is
 * {@link IngressListing}'s and the Manager's own hostname {@link ManagerPublication}'s.
 */
public final class IngressService implements GuardianListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngressService.class);
    /** The Manager's own API and console, published at {@code --public-url} ({@code --publish-on-host}). */
    public static final Owner MANAGER_OWNER = Owner.of("manager", "api");

    private final Domains domains;
    private final List<String> allowedSuffixes;
    private final String defaultTls;
    /** Reconciles and listings: their agent replies are handled off the agents' threads, one at a time. */
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ingress-reconcile");
        t.setDaemon(true);
        return t;
    });
    private final GuardianRoutes routes;
    private final IngressListing listing;
    private final ManagerPublication publication;

    /** {@code GET /ingress}: one route as the Manager and the Guardian know it. */
    public record RouteView(String host, String hostId, String hostName, String owner, String service, Integer port,
                            String upstream, String tls, boolean active, String certificateIssuer,
                            String certificateNotAfter, String certificateError, Boolean caddyReachable) {
    }

    public IngressService(Domains domains, AgentRegistry agents, List<String> allowedSuffixes, String defaultTls) {
        this.domains = domains;
        this.allowedSuffixes = allowedSuffixes.stream().map(s -> Hostname.parse("--allowed-domain-suffix",
                s.startsWith(".") ? s.substring(1) : s)).toList();
        this.defaultTls = IngressSchema.Tls.parse("--domain-tls", defaultTls).wire();
        this.routes = new GuardianRoutes(domains, agents, executor);
        this.listing = new IngressListing(domains, agents, executor);
        this.publication = new ManagerPublication(domains, agents, this.defaultTls);
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
                throw ProtocolException.invalid(field, "is listed twice");
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
                routes.unrouteDropped(hostId, c, owner);
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

    public Optional<Claim> claim(String host) {
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
        routes.route(host, upstream);
    }

    /**
     * Removes the hostname's route at the Guardian of {@code hostId} (if it holds one for {@code owner});
     * a Guardian without ingress has none to remove.
     */
    public void unroute(String hostId, String host, Owner owner) throws Exception {
        routes.unroute(hostId, host, owner);
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
     * After a deploy: points each domain's route at the host port now publishing its container port (none
     * when no longer published). Returns what it did, for the deploy's log; see {@link GuardianRoutes#sync}.
     */
    public List<String> sync(String deploymentId, List<DeploySchema.Service> services) {
        return routes.sync(deploymentId, services);
    }

    /**
     * A stopped deployment: its routes removed, its claims kept (routed again by the next {@link #sync}).
     * Returns what it did, for the log; see {@link GuardianRoutes#suspend}.
     */
    public List<String> suspend(String deploymentId, String hostId, Owner owner) {
        return routes.suspend(deploymentId, hostId, owner);
    }

    /** Removes the deployment's routes at its Guardian, then its claims; fails (claims kept) if the Guardian cannot. */
    public void release(String deploymentId, String hostId, Owner owner) throws Exception {
        if (domains.byDeployment(deploymentId).isEmpty()) {
            return;
        }
        routes.unrouteOwner(hostId, owner); // a Guardian without ingress has no route to remove: the claims go
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

    // ---- the Manager's own API and console ----

    /**
     * Publishes the Manager at {@code publicUrl}'s hostname through the Caddy of the host {@code hostRef}
     * (id or name), to {@code upstream} (the Manager's listen address as that host dials it: the same host).
     * The hostname is claimed like a deployment's (owner {@code manager/api}); the route is set on every
     * (re)connect of that host's Guardian. A null {@code hostRef} drops an earlier publication: its claim
     * goes now, its route at the Guardian's next reconnect.
     */
    public void publishManager(String hostRef, URI publicUrl, String upstream) {
        publication.publish(hostRef, publicUrl, upstream);
    }

    // ---- reconnect ----

    @Override
    public void connected(String hostId) {
        try {
            publication.claim(hostId);
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
        return routes.reconcile(hostId);
    }

    /** {@code GET /ingress}: every route, with what each host's Guardian reports of Caddy and the certificates. */
    public CompletableFuture<List<RouteView>> list() {
        return listing.list();
    }

    /** An agent's failure as the logs and deploy logs show it: {@code code: message}. */
    static String message(Throwable e) {
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
