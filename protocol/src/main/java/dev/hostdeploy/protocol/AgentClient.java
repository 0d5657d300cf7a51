package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.ServerHandshake;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Manager side of the protocol: one connection to one agent, kept up with capped exponential
 * backoff, many requests in flight, each with its own timeout.
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentClient.class);
    /** Replies (logs, lists) may be larger than requests; still bounded. */
    static final int MAX_REPLY_BYTES = 16 * 1024 * 1024;
    /** Request ids are base-36 counters, so this one never collides with a call. */
    private static final String HELLO_ID = "hello";

    public static Builder builder(URI uri, Identity identity, TrustPolicy trust) {
        return new Builder(uri, identity, trust);
    }

    public static final class Builder {
        final URI uri;
        final Identity identity;
        final TrustPolicy trust;
        Duration requestTimeout = Duration.ofSeconds(30);
        Duration connectTimeout = Duration.ofSeconds(10);
        Consumer<JsonNode> onEvent = e -> { };
        Consumer<Boolean> onConnectionChange = c -> { };
        Backoff backoff = Backoff.DEFAULT;

        Builder(URI uri, Identity identity, TrustPolicy trust) {
            if (!"wss".equals(uri.getScheme())) {
                throw new IllegalArgumentException("agent URI must be wss://HOST:PORT" + AgentServer.PATH + ": " + uri);
            }
            this.uri = uri;
            this.identity = identity;
            this.trust = trust;
        }

        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        public Builder onEvent(Consumer<JsonNode> listener) {
            this.onEvent = listener;
            return this;
        }

        public Builder onConnectionChange(Consumer<Boolean> listener) {
            this.onConnectionChange = listener;
            return this;
        }

        public Builder backoff(Backoff backoff) {
            this.backoff = backoff;
            return this;
        }

        public AgentClient build() {
            return new AgentClient(this);
        }
    }

    /** {@code deadline} is in System.nanoTime() terms. */
    private record Pending(String command, CompletableFuture<JsonNode> future, Consumer<JsonNode> progress,
            long deadline, long timeoutMillis) {
    }

    /**
     * How often timeouts are checked. One sweeper instead of a timer per call: scheduling a timer per
     * request woke the scheduler thread on every call and cost more than the round trip itself.
     */
    static final long SWEEP_MILLIS = 50;

    private final Builder config;
    private final SSLContext ssl;
    private final ScheduledExecutorService scheduler;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Object lock = new Object();
    private volatile Connection connection;
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile boolean started;
    private volatile String lastFailure;
    private volatile String refusedFingerprint;
    private volatile JsonNode agentInfo;
    private int attempt;

    private AgentClient(Builder b) {
        this.config = b;
        this.ssl = Tls.context(b.identity, b.trust, "agent", fp -> refusedFingerprint = fp);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "agent-client-" + b.uri.getHost() + ":" + b.uri.getPort());
            t.setDaemon(true);
            return t;
        });
    }

    public URI uri() {
        return config.uri;
    }

    /** Starts connecting in the background; reconnects after every drop until closed. */
    public void start() {
        synchronized (lock) {
            if (started || closed) {
                return;
            }
            started = true;
        }
        scheduler.execute(this::connect);
        scheduler.scheduleWithFixedDelay(this::sweepTimeouts, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void connect() {
        if (closed) {
            return;
        }
        Connection c = new Connection();
        connection = c;
        c.connect();
    }

    private void scheduleReconnect() {
        if (closed) {
            return;
        }
        Duration delay;
        synchronized (lock) {
            delay = config.backoff.delay(attempt++);
        }
        LOG.debug("reconnecting to {} in {} ms", config.uri, delay.toMillis());
        try {
            scheduler.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (!connected && !closed) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                lock.wait(left);
            }
            return connected;
        }
    }

    public boolean isConnected() {
        return connected;
    }

    /** Why the last connection attempt or connection failed, for status pages; null while all is well. */
    public String lastFailure() {
        return lastFailure;
    }

    /** The agent key the last handshake refused, if any: what an admin compares with the registered one. */
    public String refusedFingerprint() {
        return refusedFingerprint;
    }

    /** The agent's {@code info} reply from the current (or last) connection: kind, version, hostname... */
    public JsonNode agentInfo() {
        return agentInfo;
    }

    public CompletableFuture<JsonNode> call(String command, Object data) {
        return call(command, data, config.requestTimeout, null);
    }

    public CompletableFuture<JsonNode> call(String command, Object data, Duration timeout, Consumer<JsonNode> progress) {
        CompletableFuture<JsonNode> future = new CompletableFuture<>();
        Connection c = connection;
        if (closed || !connected || c == null) {
            future.completeExceptionally(local(ErrorCode.UNAVAILABLE, "not connected to " + config.uri
                    + (lastFailure == null ? "" : " (" + lastFailure + ")")));
            return future;
        }
        String id = Long.toString(ids.incrementAndGet(), 36);
        String text;
        try {
            text = new Frame.Request(id, command, data == null ? Collections.emptyMap() : data).toJson();
        } catch (RuntimeException e) {
            future.completeExceptionally(new IllegalArgumentException("cannot serialize data of " + command, e));
            return future;
        }
        pending.put(id, new Pending(command, future, progress, System.nanoTime() + timeout.toNanos(), timeout.toMillis()));
        try {
            c.send(text);
        } catch (RuntimeException e) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future.completeExceptionally(local(ErrorCode.UNAVAILABLE, "connection lost while sending " + command));
            }
        }
        return future;
    }

    private void sweepTimeouts() {
        long now = System.nanoTime();
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            if (now - p.deadline >= 0 && pending.remove(e.getKey(), p)) {
                p.future.completeExceptionally(local(ErrorCode.TIMEOUT,
                        p.command + " got no reply within " + p.timeoutMillis + " ms"));
            }
        }
    }

    private static AgentCallException local(ErrorCode code, String message) {
        return new AgentCallException(ErrorData.of(code, message, null));
    }

    private void onText(Connection from, String text) {
        Frame frame;
        try {
            frame = Frame.parse(text);
        } catch (ProtocolException e) {
            LOG.warn("unreadable frame from {}", config.uri);
            return;
        }
        if (HELLO_ID.equals(frame.id())) {
            if (frame instanceof Frame.Result result && from == connection) {
                agentInfo = result.dataTree();
                LOG.info("connected to {} ({} {})", config.uri, LogSafe.of(agentInfo.path("kind").asText()),
                        LogSafe.of(agentInfo.path("version").asText()));
                setConnected(true);
            } else {
                lastFailure = "agent refused info: " + frame.dataTree();
                from.close();
            }
            return;
        }
        if (frame instanceof Frame.Event event) {
            try {
                config.onEvent.accept(event.dataTree());
            } catch (RuntimeException e) {
                LOG.warn("event listener failed", e);
            }
            return;
        }
        if (frame.id() == null) {
            LOG.warn("{} from {} without id: {}", LogSafe.of(frame.command()), config.uri, LogSafe.of(frame.dataTree()));
            return;
        }
        if (frame instanceof Frame.Progress progress) {
            Pending p = pending.get(progress.id());
            if (p != null && p.progress != null) {
                p.progress.accept(progress.dataTree());
            }
            return;
        }
        Pending p = pending.remove(frame.id());
        if (p == null) {
            return; // timed out already
        }
        if (frame instanceof Frame.Result result) {
            p.future.complete(result.dataTree());
        } else if (frame instanceof Frame.Error error) {
            p.future.completeExceptionally(new AgentCallException(error.data()));
        } else {
            p.future.completeExceptionally(local(ErrorCode.INTERNAL, "unexpected reply " + frame.command()));
        }
    }

    private void setConnected(boolean value) {
        boolean changed;
        synchronized (lock) {
            changed = connected != value;
            connected = value;
            if (value) {
                attempt = 0;
            }
            lock.notifyAll();
        }
        if (changed) {
            try {
                config.onConnectionChange.accept(value);
            } catch (RuntimeException e) {
                LOG.warn("connection listener failed", e);
            }
        }
    }

    private void failPending(String why) {
        for (String id : pending.keySet()) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future.completeExceptionally(local(ErrorCode.UNAVAILABLE, why));
            }
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        Connection c = connection;
        if (c != null) {
            c.close();
        }
        failPending("client closed");
        setConnected(false);
        scheduler.shutdownNow();
    }

    private final class Connection extends WebSocketClient {
        Connection() {
            super(config.uri, new Draft_6455(Collections.emptyList(), MAX_REPLY_BYTES), null,
                    (int) config.connectTimeout.toMillis());
            setSocketFactory(ssl.getSocketFactory());
            setTcpNoDelay(true);
            // The agent pings us; we don't need our own lost-connection timer on top of TCP and its pings.
            setConnectionLostTimeout(0);
        }

        @Override
        protected void onSetSSLParameters(SSLParameters parameters) {
            // Deliberately no super call: it would turn on hostname checks, and trust is the pinned key.
            Tls.restrict(parameters);
        }

        @Override
        public void onOpen(ServerHandshake handshake) {
            if (closed) {
                close();
                return;
            }
            lastFailure = null;
            refusedFingerprint = null;
            // Connected means served: an agent that already has a Manager accepts the upgrade and then
            // closes with 4409, so only an answered `info` proves this connection holds the slot.
            send(new Frame.Request(HELLO_ID, "info", null).toJson());
        }

        @Override
        public void onMessage(String message) {
            onText(this, message);
        }

        @Override
        public void onMessage(ByteBuffer bytes) {
            LOG.warn("ignored a binary frame from {}", config.uri);
        }

        @Override
        public void onClose(int code, String reason, boolean remote) {
            if (connection != this) {
                return;
            }
            if (code != 1000 || !closed) {
                lastFailure = refusedFingerprint != null
                        ? "agent presented untrusted key " + refusedFingerprint
                        : "closed (" + code + (reason == null || reason.isEmpty() ? "" : ": " + reason) + ")";
            }
            boolean was = connected;
            setConnected(false);
            failPending("connection to " + config.uri + " lost");
            if (was) {
                LOG.info("disconnected from {}: {} {}", config.uri, code, LogSafe.of(reason));
            }
            scheduleReconnect();
        }

        @Override
        public void onError(Exception ex) {
            LOG.debug("connection error with {}: {}", config.uri, LogSafe.of(ex));
            if (refusedFingerprint == null) {
                lastFailure = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            }
        }
    }
}
