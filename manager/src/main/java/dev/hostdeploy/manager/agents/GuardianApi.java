package dev.hostdeploy.manager.agents;

import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.firewall.FirewallSchema.Applied;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.Closed;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardAdded;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardRemove;
import dev.hostdeploy.schema.firewall.FirewallSchema.Opened;
import dev.hostdeploy.schema.firewall.FirewallSchema.Removed;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.FirewallSchema.State;
import dev.hostdeploy.schema.firewall.FirewallSchema.Status;
import dev.hostdeploy.schema.ingress.IngressSchema;
import dev.hostdeploy.schema.ingress.IngressSchema.Remove;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import dev.hostdeploy.schema.ingress.IngressSchema.RouteSet;
import dev.hostdeploy.schema.ingress.IngressSchema.Routes;
import java.util.concurrent.CompletableFuture;

/** A host's Guardian as feature code calls it: one method per command, the schema's records in and out. */
public final class GuardianApi {
    private final AgentHandle agent;

    GuardianApi(AgentHandle agent) {
        this.agent = agent;
    }

    /** The untyped handle, for the admin's passthrough and for status. */
    public AgentHandle handle() {
        return agent;
    }

    public CompletableFuture<Opened> open(RuleData rule) {
        return agent.call(FirewallSchema.OPEN, rule, Opened.class);
    }

    /** Closes one opening, or every opening of an owner ({@link Close#owner}). */
    public CompletableFuture<Closed> close(Close request) {
        return agent.call(FirewallSchema.CLOSE, request, Closed.class);
    }

    public CompletableFuture<ForwardAdded> forwardAdd(ForwardData forward) {
        return agent.call(FirewallSchema.FORWARD_ADD, forward, ForwardAdded.class);
    }

    /** Removes one forward, or every forward of an owner ({@link ForwardRemove#owner}). */
    public CompletableFuture<Removed> forwardRemove(ForwardRemove request) {
        return agent.call(FirewallSchema.FORWARD_REMOVE, request, Removed.class);
    }

    /** The whole desired state, as the Manager reconciles it. */
    public CompletableFuture<State> list() {
        return agent.call(FirewallSchema.LIST, null, State.class);
    }

    /** Replaces the whole desired state in one transaction. */
    public CompletableFuture<Applied> apply(State state) {
        return agent.call(FirewallSchema.APPLY, state, Applied.class);
    }

    public CompletableFuture<Status> status() {
        return agent.call(FirewallSchema.STATUS, null, Status.class);
    }

    /** {@code firewall.list} and {@code firewall.status} in one reply; an older Guardian answers {@code unknown_command}. */
    public CompletableFuture<FirewallSchema.Summary> summary() {
        return agent.call(FirewallSchema.SUMMARY, null, FirewallSchema.Summary.class);
    }

    /** Adds or replaces one hostname's route at the host's Caddy. */
    public CompletableFuture<RouteSet> ingressSet(Route route) {
        return agent.call(IngressSchema.SET, route, RouteSet.class);
    }

    /** Removes one hostname's route, or every route of an owner ({@link Remove#owner}). */
    public CompletableFuture<IngressSchema.Removed> ingressRemove(Remove request) {
        return agent.call(IngressSchema.REMOVE, request, IngressSchema.Removed.class);
    }

    public CompletableFuture<Routes> ingressList() {
        return agent.call(IngressSchema.LIST, null, Routes.class);
    }

    /** Caddy's reachability and drift, and each route's certificate. */
    public CompletableFuture<IngressSchema.Status> ingressStatus() {
        return agent.call(IngressSchema.STATUS, null, IngressSchema.Status.class);
    }
}
