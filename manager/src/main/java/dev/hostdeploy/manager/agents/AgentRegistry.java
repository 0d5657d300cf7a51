package dev.hostdeploy.manager.agents;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.Backoff;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.ProtocolException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection per registered agent, made with the Manager's own identity. Each client reconnects on
 * its own; a heartbeat pings connected agents so the API can show their round-trip time.
 *
 * <p>Connections cost no thread (see {@link dev.hostdeploy.protocol.AgentClient}). Their first
 * handshakes are paced: a Manager starting with 1,000 hosts spreads its 2,000 handshakes over about five
 * seconds, in a shuffled order, rather than making them all at once; the API serves meanwhile.
 */
public final class AgentRegistry implements AutoCloseable {
    private final Identity identity;
    private final Duration callTimeout;
    private final AuditLog audit;
    private final Backoff backoff;
    /** Time between two paced first handshakes: 400 a second. */
    static final long START_STEP_NANOS = TimeUnit.MICROSECONDS.toNanos(2500);
    /** How far a start may move from its slot, so neighbours in the host list do not dial together. */
    static final long START_JITTER_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final ConcurrentHashMap<String, HostAgents> hosts = new ConcurrentHashMap<>();
    private volatile GuardianListener guardianListener = new GuardianListener() { };
    private final List<java.util.function.Consumer<String>> workerListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicLong nextStart = new AtomicLong(System.nanoTime());
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

    /** Where an agent listens and the key it must present. */
    public record Endpoint(String address, String fingerprint) {
    }

    /** Who hears of Guardian (re)connects and passthrough firewall changes; one, set at startup. */
    public void guardianListener(GuardianListener listener) {
        this.guardianListener = listener;
    }

    /** Told the host id on each (re)connect of a Worker, on an I/O thread: must not block. */
    public void onWorkerConnected(java.util.function.Consumer<String> listener) {
        workerListeners.add(listener);
    }

    private void workerConnected(String hostId) {
        for (var l : workerListeners) {
            l.accept(hostId);
        }
    }

    /** Connects to a host's agents; a host already known is reconnected with the new endpoints. */
    public void add(String hostId, String hostName, Endpoint workerAt, Endpoint guardianAt) {
        AgentConnection worker = new AgentConnection(hostId, hostName, AgentRole.WORKER,
                workerAt.address(), workerAt.fingerprint(), identity, callTimeout, backoff, startDelay(),
                () -> workerConnected(hostId));
        AgentConnection guardian = new AgentConnection(hostId, hostName, AgentRole.GUARDIAN,
                guardianAt.address(), guardianAt.fingerprint(), identity, callTimeout, backoff, startDelay(),
                () -> guardianListener.connected(hostId));
        HostAgents previous = hosts.put(hostId, new HostAgents(hostId, hostName, worker, guardian));
        if (previous != null) {
            previous.worker().close();
            previous.guardian().close();
        }
        worker.start();
        guardian.start();
    }

    /**
     * When the next new connection may dial: at once while starts are rare (a host added through the
     * API), one slot after another when many come together (the hosts loaded at startup).
     */
    private Duration startDelay() {
        long now = System.nanoTime();
        long slot = nextStart.updateAndGet(previous -> Math.max(previous, now) + START_STEP_NANOS) - START_STEP_NANOS;
        long queued = slot - now;
        long jitter = queued <= 0 ? 0 : ThreadLocalRandom.current().nextLong(START_JITTER_NANOS);
        return Duration.ofNanos(Math.max(0, queued) + jitter);
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

    /** The host's Worker, typed; {@code not_found} when no such host is registered. */
    public WorkerApi worker(String hostId) {
        return require(hostId).workerApi();
    }

    /** The Guardian assigned to the host, typed. */
    public GuardianApi guardian(String hostId) {
        return require(hostId).guardianApi();
    }

    private HostAgents require(String hostId) {
        HostAgents agents = hosts.get(hostId);
        if (agents == null) {
            throw ProtocolException.notFound("no host " + hostId);
        }
        return agents;
    }

    /** One agent untyped, for the admin's command passthrough. */
    public AgentHandle handle(String hostId, AgentRole role) {
        return new AgentHandle(require(hostId).agent(role));
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
        GuardianListener listener = guardianListener;
        Object sent = role == AgentRole.GUARDIAN ? listener.beforePassthrough(actor, hostId, command, data) : data;
        return agent.call(command, sent, timeout, null).whenComplete((r, e) -> {
            audit.record(actor, "agent." + command, target, e == null ? "ok" : errorCode(e), address);
            if (e == null && role == AgentRole.GUARDIAN) {
                listener.passedThrough(hostId, command, sent);
            }
        });
    }

    /**
     * Registers {@code hostdeploy_agent_connected} and {@code hostdeploy_agent_rtt_seconds} per host and
     * agent; returns what refreshes their rows (hosts come and go) before a scrape.
     */
    public Runnable bindMetrics(MeterRegistry registry) {
        MultiGauge connected = MultiGauge.builder("hostdeploy.agent.connected")
                .description("1 when the Manager is connected to the agent.").register(registry);
        MultiGauge rtt = MultiGauge.builder("hostdeploy.agent.rtt").baseUnit("seconds")
                .description("Last measured ping round-trip time per agent.").register(registry);
        return () -> {
            List<MultiGauge.Row<?>> up = new ArrayList<>();
            List<MultiGauge.Row<?>> times = new ArrayList<>();
            for (HostAgents h : hosts.values()) {
                for (AgentConnection a : List.of(h.worker(), h.guardian())) {
                    Tags tags = Tags.of("host", h.hostName(), "agent", a.role().wire());
                    up.add(MultiGauge.Row.of(tags, a.connected() ? 1 : 0));
                    Double ms = a.rttMs();
                    if (ms != null) {
                        times.add(MultiGauge.Row.of(tags, ms / 1000.0));
                    }
                }
            }
            connected.register(up, true);
            rtt.register(times, true);
        };
    }

    public static String errorCode(Throwable e) {
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
