package dev.hostdeploy.manager.orchestration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.store.Hosts;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.Backoff;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One connection per registered agent, made with the Manager's own identity. Each client reconnects on
 * its own; a heartbeat pings connected agents so the API can show their round-trip time.
 */
public final class AgentRegistry implements AutoCloseable {
    private final Identity identity;
    private final Duration callTimeout;
    private final AuditLog audit;
    private final Backoff backoff;
    private final ConcurrentHashMap<String, HostAgents> hosts = new ConcurrentHashMap<>();
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-heartbeat");
        t.setDaemon(true);
        return t;
    });

    public AgentRegistry(Identity identity, Duration callTimeout, Duration pingInterval, Backoff backoff,
                         AuditLog audit) {
        this.identity = identity;
        this.backoff = backoff;
        this.callTimeout = callTimeout;
        this.audit = audit;
        long ms = pingInterval.toMillis();
        heartbeat.scheduleWithFixedDelay(this::pingAll, ms, ms, TimeUnit.MILLISECONDS);
    }

    public void add(Hosts.Host host) {
        AgentConnection worker = new AgentConnection(host.id(), host.name(), AgentRole.WORKER,
                host.worker().address(), host.worker().fingerprint(), identity, callTimeout, backoff);
        AgentConnection guardian = new AgentConnection(host.id(), host.name(), AgentRole.GUARDIAN,
                host.guardian().address(), host.guardian().fingerprint(), identity, callTimeout, backoff);
        HostAgents previous = hosts.put(host.id(), new HostAgents(host.id(), host.name(), worker, guardian));
        if (previous != null) {
            previous.worker().close();
            previous.guardian().close();
        }
        worker.start();
        guardian.start();
    }

    public void remove(String hostId) {
        HostAgents agents = hosts.remove(hostId);
        if (agents != null) {
            agents.worker().close();
            agents.guardian().close();
        }
    }

    public Optional<HostAgents> get(String hostId) {
        return Optional.ofNullable(hosts.get(hostId));
    }

    public Collection<HostAgents> all() {
        return List.copyOf(hosts.values());
    }

    public long connectedCount() {
        return hosts.values().stream()
                .mapToLong(h -> (h.worker().connected() ? 1 : 0) + (h.guardian().connected() ? 1 : 0)).sum();
    }

    public long agentCount() {
        return hosts.size() * 2L;
    }

    /**
     * Sends a command on behalf of a person and records it in the audit log with its outcome. Status
     * polls (ping, info, the stats queries) go through {@link AgentConnection#call} unaudited.
     */
    public CompletableFuture<JsonNode> command(String actor, String address, String hostId, AgentRole role,
                                               String command, Object data, Duration timeout) {
        HostAgents agents = hosts.get(hostId);
        if (agents == null) {
            throw ProtocolException.notFound("no host " + hostId);
        }
        AgentConnection agent = agents.agent(role);
        String target = "host/" + agents.hostName() + "/" + role.wire();
        return agent.call(command, data, timeout).whenComplete((r, e) ->
                audit.record(actor, "agent." + command, target, e == null ? "ok" : errorCode(e), address));
    }

    static String errorCode(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return t instanceof AgentCallException a ? a.error().code() : "internal";
    }

    private void pingAll() {
        for (HostAgents h : hosts.values()) {
            h.worker().ping();
            h.guardian().ping();
        }
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        for (String id : List.copyOf(hosts.keySet())) {
            remove(id);
        }
    }
}
