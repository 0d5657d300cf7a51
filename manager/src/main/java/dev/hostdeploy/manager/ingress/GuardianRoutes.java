package dev.hostdeploy.manager.ingress;

import static dev.hostdeploy.manager.agents.AgentErrors.cause;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianApi;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.ingress.IngressSchema.Remove;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the claims at the hosts' Guardians, which put them in Caddy: sets and removes routes as
 * deployments deploy and stop and as members' domains come and go, recording in each claim the upstream
 * it was routed to, and brings a reconnected Guardian's routes back to the claims. Everything that talks to
 * a Guardian about routes is here; what may be claimed, and by whom, is {@link IngressService}'s.
 */
final class GuardianRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(GuardianRoutes.class);
    /** Owners whose routes all come from claims: a route of theirs no claim has is stale. */
    private static final Set<String> CLAIMING_KINDS = Set.of("deployment", "container", "manager");

    private final Domains domains;
    private final AgentRegistry agents;
    private final ExecutorService executor;

    GuardianRoutes(Domains domains, AgentRegistry agents, ExecutorService executor) {
        this.domains = domains;
        this.agents = agents;
        this.executor = executor;
    }

    /** Routes the claimed hostname to {@code upstream} at its host's Guardian; the claim keeps the upstream. */
    void route(String host, String upstream) throws Exception {
        Claim c = domains.find(host).orElseThrow(() -> ProtocolException.notFound("no claim " + host));
        domains.upstream(host, upstream);
        agents.guardian(c.hostId()).ingressSet(route(c, upstream)).get(60, TimeUnit.SECONDS);
    }

    /**
     * Removes the hostname's route at the Guardian of {@code hostId} (if it holds one for {@code owner});
     * a Guardian without ingress has none to remove.
     */
    void unroute(String hostId, String host, Owner owner) throws Exception {
        try {
            agents.guardian(hostId).ingressRemove(new Remove(host, owner)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (!(cause(e) instanceof AgentCallException a
                    && (a.code() == ErrorCode.CONFLICT || a.code() == ErrorCode.NOT_FOUND))) {
                throw e;
            }
        }
    }

    /** Removes a dropped domain's route; a Guardian without ingress has none to remove. */
    void unrouteDropped(String hostId, Claim c, Owner owner) throws Exception {
        try {
            agents.guardian(hostId).ingressRemove(new Remove(c.host(), owner)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (!(cause(e) instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT)) {
                throw e;
            }
        }
    }

    /** Removes every route of {@code owner} at the host's Guardian; a Guardian without ingress has none. */
    void unrouteOwner(String hostId, Owner owner) throws Exception {
        try {
            agents.guardian(hostId).ingressRemove(Remove.owner(owner)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (!(cause(e) instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT)) {
                throw e;
            }
        }
    }

    /**
     * After a deploy: sets each domain's route to the host port now publishing its container port and
     * removes the route of a domain whose port is no longer published. Returns what it did, for the
     * deploy's log; a Guardian that cannot be reached (or has no ingress) leaves the routes for its
     * next reconnect and the deploy stands.
     */
    List<String> sync(String deploymentId, List<DeploySchema.Service> services) {
        List<Claim> claims = domains.byDeployment(deploymentId);
        List<String> notes = new ArrayList<>();
        for (Claim c : claims) {
            String upstream = IngressService.upstream(services, c.service(), c.port());
            if (Objects.equals(upstream, c.upstream())) {
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
                notes.add("domains: " + c.host() + ": the guardian could not be updated: " + IngressService.message(e));
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
    List<String> suspend(String deploymentId, String hostId, Owner owner) {
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
                    + IngressService.message(e));
        }
        return notes;
    }

    /**
     * Brings the Guardian's routes to the claims of its host (deployments' and members' containers'):
     * sets those missing or different, removes deployment- or container-owned ones no claim has (deleted
     * meanwhile). Routes of other owners stay.
     * Returns how many changes it sent.
     */
    CompletableFuture<Integer> reconcile(String hostId) {
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

    /** The route a claim asks for, to {@code upstream}. */
    static Route route(Claim c, String upstream) {
        return new Route(c.host(), upstream, Owner.of(c.owner()), c.tls());
    }
}
