package dev.hostdeploy.manager.agents;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentInfo;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.Backoff;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Manager's one connection to one agent. The client trusts exactly the fingerprint registered for
 * this agent, so an agent presenting any other key never completes a handshake and is never called.
 */
public final class AgentConnection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentConnection.class);

    private final String hostId;
    private final String hostName;
    private final String managerFingerprint;
    private final AgentRole role;
    private final String address;
    private final String fingerprint;
    private final AgentClient client;
    private final Duration callTimeout;
    private volatile boolean connected;
    private volatile Instant lastSeen;
    private volatile String version;
    private volatile Integer protocolVersion;
    /** Why this agent gets no commands: it speaks another protocol version; null when it matches. */
    private volatile String protocolMismatch;
    private volatile Double rttMs;
    private volatile String lastError;
    private volatile String loggedRefusal;
    private final Runnable onConnected;

    AgentConnection(String hostId, String hostName, AgentRole role, String address, String fingerprint,
                    Identity identity, Duration callTimeout, Backoff backoff, Duration startDelay) {
        this(hostId, hostName, role, address, fingerprint, identity, callTimeout, backoff, startDelay, () -> { });
    }

    AgentConnection(String hostId, String hostName, AgentRole role, String address, String fingerprint,
                    Identity identity, Duration callTimeout, Backoff backoff, Duration startDelay,
                    Runnable onConnected) {
        this.onConnected = onConnected;
        this.hostId = hostId;
        this.hostName = hostName;
        this.managerFingerprint = identity.fingerprint();
        this.role = role;
        this.address = address;
        this.fingerprint = fingerprint;
        this.callTimeout = callTimeout;
        this.client = AgentClient.builder(URI.create("wss://" + address + "/hostdeploy/v1"), identity,
                        TrustPolicy.exactly(List.of(fingerprint)))
                .requestTimeout(callTimeout)
                .backoff(backoff)
                .initialDelay(startDelay)
                .onConnectionChange(this::connectionChanged)
                .onEvent(e -> seen())
                .build();
    }

    void start() {
        client.start();
    }

    private void connectionChanged(boolean up) {
        connected = up;
        if (up) {
            LOG.debug("connected to {} of host {} at {}", role.wire(), hostName, address);
            lastError = null;
            seen();
            AgentInfo info = client.agentInfo();
            if (info != null) {
                version = info.version();
                protocolVersion = info.protocolVersion();
                if (info.kind() != null && !info.kind().equals(role.wire())) {
                    LOG.warn("host {}: the agent registered as {} at {} says it is a {}", hostName, role.wire(),
                            address, info.kind());
                }
                protocolMismatch = mismatch(info.protocolVersion(), info.version());
                if (protocolMismatch != null) {
                    LOG.warn("host {} {} at {}: {}", hostName, role.wire(), address, protocolMismatch);
                    ping();
                    return; // nothing is sent to it, so no reconnect hook (a Guardian's firewall replay) either
                }
            }
            ping();
            try {
                onConnected.run();
            } catch (RuntimeException e) {
                LOG.warn("host {}: the reconnect hook of its {} failed: {}", hostName, role.wire(), e.toString());
            }
        } else {
            LOG.info("lost connection to {} of host {} at {}", role.wire(), hostName, address);
        }
    }

    /** Null when the agent speaks the Manager's protocol version, else what the host shows and which side to upgrade. */
    static String mismatch(int agentProtocol, String agentVersion) {
        int own = AgentServer.PROTOCOL_VERSION;
        if (agentProtocol == own) {
            return null;
        }
        return "the agent (" + agentVersion + ") speaks protocol version " + agentProtocol + ", this Manager speaks "
                + own + ": no command is sent to it until " + (agentProtocol < own ? "the agent is" : "the Manager is")
                + " upgraded (docs/operations.md, Upgrades)";
    }

    /** What the agent said about itself on the current connection ({@code info}); null before the first. */
    public AgentInfo info() {
        return client.agentInfo();
    }

    /**
     * Measures the round-trip time with a WebSocket ping, answered by the agent's WebSocket layer (no
     * command's JSON on either side): at connect and then every heartbeat period.
     */
    CompletableFuture<Void> ping() {
        if (!connected) {
            return CompletableFuture.completedFuture(null);
        }
        return client.ping().handle((rtt, e) -> {
            if (e == null) {
                rttMs = rtt.toNanos() / 1e6;
                seen();
            }
            return null;
        });
    }

    private void seen() {
        lastSeen = Instant.now();
    }

    /** The later of the last answer and the last frame the agent sent on its own (its pings, every 20 s). */
    private Instant lastSeen() {
        Instant answered = lastSeen;
        Instant heard = client.lastHeard();
        return heard == null || (answered != null && answered.isAfter(heard)) ? answered : heard;
    }

    /** Calls a command; fails fast with {@code unavailable} when not connected rather than queueing. */
    public CompletableFuture<JsonNode> call(String command, Object data) {
        return call(command, data, callTimeout, null);
    }

    public CompletableFuture<JsonNode> call(String command, Object data, Duration timeout,
                                            Consumer<JsonNode> progress) {
        if (!connected) {
            return CompletableFuture.failedFuture(new AgentCallException(ErrorData.of(ErrorCode.UNAVAILABLE,
                    role.wire() + " of host " + hostName + " is not connected", null)));
        }
        String mismatch = protocolMismatch;
        if (mismatch != null) {
            return CompletableFuture.failedFuture(new AgentCallException(ErrorData.of(ErrorCode.UNAVAILABLE,
                    role.wire() + " of host " + hostName + ": " + mismatch, null)));
        }
        return client.call(command, data, timeout, progress == null ? p -> { } : progress).whenComplete((r, e) -> {
            if (e == null) {
                seen();
            } else {
                lastError = e instanceof AgentCallException a ? a.getMessage()
                        : e.getCause() instanceof AgentCallException a2 ? a2.getMessage() : "call failed";
            }
        });
    }

    /** The timeout of a call that names none: status queries and other quick commands. */
    public Duration callTimeout() {
        return callTimeout;
    }

    public boolean connected() {
        return connected;
    }

    public String hostId() {
        return hostId;
    }

    public String hostName() {
        return hostName;
    }

    public AgentRole role() {
        return role;
    }

    public Double rttMs() {
        return rttMs;
    }

    public AgentStatus status() {
        boolean up = connected;
        String error = null;
        String refused = up ? null : client.refusedFingerprint();
        if (up) {
            String mismatch = protocolMismatch;
            return new AgentStatus(address, fingerprint, true, lastSeen(), version, rttMs, mismatch, null,
                    protocolVersion, mismatch != null);
        }
        if (refused != null) {
            error = "the agent presented key " + refused + ", not the registered " + fingerprint
                    + "; if its key changed, register the new one with PATCH /api/v1/hosts/" + hostId;
        } else if (client.refusedByAgent()) {
            error = "the agent refused the Manager's key; on that host run: " + trustCommand();
        } else {
            error = client.lastFailure() != null ? client.lastFailure() : lastError != null ? lastError : "not connected yet";
        }
        logRefusal(refused, error);
        return new AgentStatus(address, fingerprint, false, lastSeen(), version, rttMs, error, refused,
                protocolVersion, protocolMismatch != null);
    }

    /** The command that makes this agent accept the Manager, as the agents' systemd units lay them out. */
    public String trustCommand() {
        return "java -jar hostdeploy-" + role.wire() + ".jar trust --dir /etc/hostdeploy/" + role.wire()
                + " --name manager --fingerprint " + managerFingerprint;
    }

    /** Logs a key mismatch once per distinct message, so the operator sees the fix in the log too. */
    private void logRefusal(String refused, String error) {
        if ((refused != null || client.refusedByAgent()) && !error.equals(loggedRefusal)) {
            loggedRefusal = error;
            LOG.warn("host {} {} at {}: {}", hostName, role.wire(), address, error);
        }
    }

    @Override
    public void close() {
        connected = false;
        client.close();
    }
}
