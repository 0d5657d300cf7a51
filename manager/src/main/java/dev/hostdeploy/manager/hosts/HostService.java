package dev.hostdeploy.manager.hosts;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.AgentRegistry.Endpoint;
import dev.hostdeploy.manager.agents.AgentRole;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.hosts.Hosts.AgentAddress;
import dev.hostdeploy.manager.hosts.Hosts.Host;
import dev.hostdeploy.manager.hosts.Hosts.HostPatch;
import dev.hostdeploy.manager.hosts.Hosts.NewHost;
import dev.hostdeploy.manager.stats.StatsService;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/** Registered hosts and the connections to their agents, kept in step. */
public final class HostService {
    private final Hosts hosts;
    private final AgentRegistry agents;
    private final StatsService stats;
    // One registration change at a time, so two requests can't both claim the same agent.
    private final Object registrations = new Object();

    /** A host as the API shows it: each agent's live status, or its registration when not connected yet. */
    public record HostView(String id, String name, Object worker, Object guardian, Instant createdAt,
                           String publicAddress) {
    }

    public HostService(Hosts hosts, AgentRegistry agents, StatsService stats) {
        this.hosts = hosts;
        this.agents = agents;
        this.stats = stats;
    }

    /** Connects to every stored host's agents; called once at start. */
    public void connectAll() {
        hosts.list().forEach(this::connect);
    }

    public List<HostView> list() {
        return hosts.list().stream().map(this::view).toList();
    }

    public HostView get(String id) {
        return view(hosts.require(id));
    }

    public Host require(String id) {
        return hosts.require(id);
    }

    public HostView create(NewHost request) {
        Host host;
        synchronized (registrations) {
            checkUnclaimed(null, request);
            host = hosts.create(request);
        }
        connect(host);
        stats.invalidate();
        return view(host);
    }

    /** Changes a host's agent addresses or fingerprints and reconnects to its agents. */
    public HostView update(String id, HostPatch patch) {
        Host host;
        boolean agentsChanged;
        synchronized (registrations) {
            Host current = hosts.require(id);
            NewHost next = patch.applyTo(current);
            checkUnclaimed(id, next);
            agentsChanged = !next.worker().equals(current.worker()) || !next.guardian().equals(current.guardian());
            host = hosts.update(id, next);
        }
        if (agentsChanged) {
            // A new public address alone keeps the connections.
            connect(host);
        }
        stats.invalidate();
        return view(host);
    }

    public Host delete(String id) {
        Host host = hosts.delete(id);
        agents.remove(host.id());
        stats.forgetHost(host.id());
        return host;
    }

    /** Sends one command to a host's agent on someone's behalf; the registry audits it. */
    public CompletableFuture<JsonNode> command(String actor, String address, Host host, AgentRole role,
                                               String command, Object data, Duration timeout) {
        return agents.command(actor, address, host.id(), role, command, data, timeout);
    }

    /** 409 when another host already registered one of these agents' addresses or keys. */
    private void checkUnclaimed(String selfId, NewHost request) {
        for (Host other : hosts.holding(List.of(request.worker().address(), request.guardian().address()),
                List.of(request.worker().fingerprint(), request.guardian().fingerprint()))) {
            if (other.id().equals(selfId)) {
                continue;
            }
            for (AgentRole mine : AgentRole.values()) {
                AgentAddress wanted = mine == AgentRole.WORKER ? request.worker() : request.guardian();
                for (AgentRole theirs : AgentRole.values()) {
                    AgentAddress taken = other.agent(theirs.wire());
                    if (wanted.address().toLowerCase(Locale.ROOT).equals(taken.address().toLowerCase(Locale.ROOT))) {
                        throw ProtocolException.conflict(mine.wire() + ".address " + wanted.address()
                                + " is already registered for host " + other.name() + " (its " + theirs.wire() + ")");
                    }
                    if (wanted.fingerprint().equals(taken.fingerprint())) {
                        throw ProtocolException.conflict(mine.wire() + ".fingerprint " + wanted.fingerprint()
                                + " is already registered for host " + other.name() + " (its " + theirs.wire() + ")");
                    }
                }
            }
        }
    }

    private void connect(Host host) {
        agents.add(host.id(), host.name(), endpoint(host.worker()), endpoint(host.guardian()));
    }

    private static Endpoint endpoint(AgentAddress a) {
        return new Endpoint(a.address(), a.fingerprint());
    }

    private HostView view(Host host) {
        HostAgents live = agents.get(host.id()).orElse(null);
        Object worker = live == null ? host.worker() : live.worker().status();
        Object guardian = live == null ? host.guardian() : live.guardian().status();
        return new HostView(host.id(), host.name(), worker, guardian, host.createdAt(), host.publicAddress());
    }
}
