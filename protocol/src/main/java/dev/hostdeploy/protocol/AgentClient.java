package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Manager side of the protocol: one connection to one agent, kept up with capped exponential
 * backoff, many requests in flight, each with its own timeout.
 *
 * <p>Built on the JDK's asynchronous {@link java.net.http.WebSocket}: a client owns no thread. All
 * clients share one timer, one small I/O pool and, per identity, one HttpClient and SSLContext (see
 * {@link ClientTransport}), so a Manager with 2,000 agent connections runs on a dozen threads.
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
        /**
         * Bounds TCP, TLS and the HTTP upgrade together. Short on purpose: Java-WebSocket's server
         * (issue #1500) can leave an upgrade request that arrived with the client's TLS Finished unread
         * until its next socket event; a quick timeout and a fresh attempt get past it.
         */
        Duration connectTimeout = Duration.ofSeconds(3);
        Duration initialDelay = Duration.ZERO;
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

        /**
         * How long {@link #start()} waits before the first attempt: a Manager starting with many agents
         * spreads their handshakes instead of making them all in the same second.
         */
        public Builder initialDelay(Duration delay) {
            this.initialDelay = delay;
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
     * How often timeouts are checked. One sweeper for all clients instead of a timer per call (a timer
     * per request cost more than the round trip) or per client (2,000 clients made 40,000 wake-ups a
     * second); it only visits clients with calls in flight.
     */
    static final long SWEEP_MILLIS = 50;
    private static final Set<AgentClient> WAITING_FOR_REPLIES = ConcurrentHashMap.newKeySet();

    static {
        ClientTransport.TIMER.scheduleWithFixedDelay(AgentClient::sweepAll, SWEEP_MILLIS, SWEEP_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    private final Builder config;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Object lock = new Object();
    private volatile ClientTransport.Lease lease;
    private volatile Connection connection;
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile boolean started;
    private volatile String lastFailure;
    /** Epoch ms of the agent's last frame: agents ping every 20 s, so a live connection is heard from without asking. */
    private volatile long lastHeardMillis;
    private volatile String refusedFingerprint;
    /** Counts connection attempts, so a refusal is known to belong to the attempt that just failed. */
    private volatile int handshakes;
    private volatile int refusedAttempt = -1;
    private volatile boolean refusedByAgent;
    private volatile AgentInfo agentInfo;
    private int attempt;

    private AgentClient(Builder b) {
        this.config = b;
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
            lease = ClientTransport.lease(config.identity, config.uri, config.trust, fp -> {
                refusedFingerprint = fp;
                refusedAttempt = handshakes;
            });
        }
        long delay = config.initialDelay.toMillis();
        if (delay > 0) {
            schedule(this::connect, delay);
        } else {
            ClientTransport.IO.execute(this::connect);
        }
    }

    private void schedule(Runnable task, long delayMillis) {
        try {
            ClientTransport.TIMER.schedule(() -> ClientTransport.IO.execute(task), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the JVM is shutting down
        }
    }

    private void connect() {
        if (closed) {
            return;
        }
        ClientTransport.whenHandshakeSlotFree(this::handshake);
    }

    /** Holds one of the transport's handshake slots until the upgrade succeeds or fails. */
    private void handshake() {
        if (closed) {
            ClientTransport.handshakeDone();
            return;
        }
        ClientTransport.Lease l = lease;
        l.route().verified = false;
        // The last refused key stays readable while the next attempt runs (status pages poll it); the
        // attempt's own failure decides whether it still applies.
        handshakes++;
        Connection c = new Connection();
        connection = c;
        CompletableFuture<WebSocket> opened;
        try {
            opened = l.transport().http.newWebSocketBuilder().connectTimeout(config.connectTimeout)
                    .buildAsync(config.uri, c);
        } catch (RuntimeException e) {
            opened = CompletableFuture.failedFuture(e);
        }
        opened.whenComplete((ws, e) -> {
            ClientTransport.handshakeDone();
            if (e != null) {
                c.failedToOpen(e, l.route().verified);
            }
        });
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
        schedule(this::connect, delay.toMillis());
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

    /** True when the last attempt failed because the agent refused this client's key. */
    public boolean refusedByAgent() {
        return refusedByAgent;
    }

    /** The agent's {@code info} reply from the current (or last) connection: kind, version, hostname... */
    public AgentInfo agentInfo() {
        return agentInfo;
    }

    public CompletableFuture<JsonNode> call(String command, Object data) {
        return call(command, data, config.requestTimeout, null);
    }

    /**
     * The round trip of a WebSocket ping, which the agent's WebSocket layer answers itself (no command, no
     * JSON); fails with {@code unavailable} when not connected or when the pong has not come back by the
     * next ping. For heartbeats: the built-in {@code ping} command also proves the agent's dispatcher.
     */
    /** When the agent last sent anything (a reply, an event, its own WebSocket ping); null before that. */
    public java.time.Instant lastHeard() {
        long at = lastHeardMillis;
        return at == 0 ? null : java.time.Instant.ofEpochMilli(at);
    }

    public CompletableFuture<Duration> ping() {
        Connection c = connection;
        WebSocket ws = c == null ? null : c.socket;
        if (closed || !connected || ws == null) {
            return CompletableFuture.failedFuture(local(ErrorCode.UNAVAILABLE, "not connected to " + config.uri));
        }
        return c.pings.ping(ws);
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
        WAITING_FOR_REPLIES.add(this);
        if (!c.send(text)) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future.completeExceptionally(local(ErrorCode.UNAVAILABLE, "connection lost while sending " + command));
            }
        }
        return future;
    }

    private static void sweepAll() {
        long now = System.nanoTime();
        for (AgentClient client : WAITING_FOR_REPLIES) {
            try {
                client.sweepTimeouts(now);
            } catch (RuntimeException e) {
                LOG.debug("timeout sweep failed for {}", client.config.uri, e);
            }
            if (client.pending.isEmpty()) {
                WAITING_FOR_REPLIES.remove(client);
                if (!client.pending.isEmpty()) {
                    WAITING_FOR_REPLIES.add(client); // a call raced the removal
                }
            }
        }
    }

    private void sweepTimeouts(long now) {
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            if (now - p.deadline >= 0 && pending.remove(e.getKey(), p)) {
                // Completed on the I/O pool: what waits on the call must not hold up the one timer.
                ClientTransport.IO.execute(() -> p.future.completeExceptionally(local(ErrorCode.TIMEOUT,
                        p.command + " got no reply within " + p.timeoutMillis + " ms")));
            }
        }
    }

    private static AgentCallException local(ErrorCode code, String message) {
        return new AgentCallException(ErrorData.of(code, message, null));
    }

    /** A whole message, read before this returns (a WebSocket's buffer is only valid until then). */
    private void onMessage(Connection from, CharSequence text) {
        Frame frame;
        try {
            frame = Frame.parse(text);
        } catch (ProtocolException e) {
            LOG.warn("unreadable frame from {}", config.uri);
            return;
        }
        if (HELLO_ID.equals(frame.id())) {
            if (frame instanceof Frame.Result result && from == connection) {
                try {
                    agentInfo = Json.MAPPER.treeToValue(result.dataTree(), AgentInfo.class);
                } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
                    lastFailure = "agent sent an unreadable info reply";
                    from.close();
                    return;
                }
                LOG.info("connected to {} ({} {})", config.uri, LogSafe.of(agentInfo.kind()), LogSafe.of(agentInfo.version()));
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
        ClientTransport.Lease l;
        synchronized (lock) {
            closed = true;
            l = lease;
            lease = null;
            lock.notifyAll();
        }
        Connection c = connection;
        if (c != null) {
            c.close();
        }
        failPending("client closed");
        WAITING_FOR_REPLIES.remove(this);
        setConnected(false);
        if (l != null) {
            l.release();
        }
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static boolean causedBySsl(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    /**
     * One WebSocket to the agent. The JDK WebSocket allows one outstanding text send at a time, so
     * frames queue here and go out one after the other; incoming messages may arrive in parts.
     */
    private final class Connection implements WebSocket.Listener {
        private final Queue<String> outbox = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean sending = new AtomicBoolean();
        private final AtomicBoolean ended = new AtomicBoolean();
        private final StringBuilder incoming = new StringBuilder();
        private final PingTracker pings = new PingTracker();
        private volatile WebSocket socket;

        /** False when the connection is already gone. */
        boolean send(String text) {
            if (ended.get() || socket == null) {
                return false;
            }
            outbox.add(text);
            drain();
            return true;
        }

        private void drain() {
            WebSocket ws = socket;
            while (ws != null && sending.compareAndSet(false, true)) {
                String next = outbox.poll();
                if (next == null) {
                    sending.set(false);
                    if (outbox.isEmpty()) {
                        return;
                    }
                    continue;
                }
                CompletableFuture<WebSocket> sent;
                try {
                    sent = ws.sendText(next, true);
                } catch (RuntimeException e) {
                    sent = CompletableFuture.failedFuture(e);
                }
                if (sent.isDone()) {
                    sending.set(false);
                    if (sent.isCompletedExceptionally()) {
                        ended(1006, "send failed");
                        return;
                    }
                    continue;
                }
                sent.whenComplete((w, e) -> {
                    sending.set(false);
                    if (e != null) {
                        ended(1006, "send failed: " + unwrap(e).getMessage());
                    } else {
                        drain();
                    }
                });
                return;
            }
        }

        void close() {
            WebSocket ws = socket;
            if (ws == null) {
                return;
            }
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "").whenComplete((w, e) -> {
                    if (e != null) {
                        ws.abort();
                    }
                });
            } catch (RuntimeException e) {
                ws.abort();
            }
            // The agent answers a close at once; one that does not is cut off.
            ClientTransport.TIMER.schedule(ws::abort, 2, TimeUnit.SECONDS);
        }

        @Override
        public void onOpen(WebSocket ws) {
            socket = ws;
            if (closed || connection != this) {
                close();
                return;
            }
            lastFailure = null;
            refusedFingerprint = null;
            refusedByAgent = false;
            ws.request(1);
            // Connected means served: an agent that already has a Manager accepts the upgrade and then
            // closes with 4409, so only an answered `info` proves this connection holds the slot.
            send(new Frame.Request(HELLO_ID, AgentInfo.COMMAND, null).toJson());
        }

        @Override
        public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
            // The JDK answers the pong itself; the ping says the agent is there.
            lastHeardMillis = System.currentTimeMillis();
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            lastHeardMillis = System.currentTimeMillis();
            if (incoming.length() + data.length() > MAX_REPLY_BYTES) {
                incoming.setLength(0);
                lastFailure = "the agent sent a frame over " + MAX_REPLY_BYTES + " bytes";
                ws.sendClose(1009, "frame too large");
                ws.abort();
                ended(1009, "frame too large");
                return null;
            }
            CharSequence message;
            if (last && incoming.length() == 0) {
                message = data; // parsed where the decoder left it, before this method returns
            } else {
                incoming.append(data);
                if (!last) {
                    ws.request(1);
                    return null;
                }
                message = incoming.toString();
                incoming.setLength(0);
            }
            try {
                AgentClient.this.onMessage(this, message);
            } finally {
                ws.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            if (last) {
                LOG.warn("ignored a binary frame from {}", config.uri);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            lastHeardMillis = System.currentTimeMillis();
            pings.pong(message);
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            ended(code, reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            LOG.debug("connection error with {}: {}", config.uri, error.toString());
            if (refusedFingerprint == null) {
                lastFailure = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
            }
            ended(1006, null);
        }

        /** The upgrade never completed: TCP, TLS or HTTP failed. */
        void failedToOpen(Throwable e, boolean agentVerified) {
            Throwable t = unwrap(e);
            LOG.debug("connection error with {}: {}", config.uri, t.toString());
            if (refusedAttempt != handshakes) {
                refusedFingerprint = null;
            }
            // TLS failed although we had verified the agent's certificate: the agent refused ours.
            refusedByAgent = refusedFingerprint == null && agentVerified && causedBySsl(t);
            lastFailure = refusedFingerprint != null ? "agent presented untrusted key " + refusedFingerprint
                    : t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            if (ended.compareAndSet(false, true) && connection == this) {
                scheduleReconnect();
            }
        }

        /** The open connection is over, by a close frame or an error; runs once. */
        private void ended(int code, String reason) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            outbox.clear();
            pings.ended();
            WebSocket ws = socket;
            if (ws != null && code != 1000) {
                ws.abort();
            }
            if (connection != this) {
                return;
            }
            if (code != 1000 || !closed) {
                if (code != 1006 || lastFailure == null) {
                    lastFailure = refusedFingerprint != null
                            ? "agent presented untrusted key " + refusedFingerprint
                            : "closed (" + code + (reason == null || reason.isEmpty() ? "" : ": " + reason) + ")";
                }
            }
            boolean was = connected;
            setConnected(false);
            failPending("connection to " + config.uri + " lost");
            if (was) {
                LOG.info("disconnected from {}: {} {}", config.uri, code, reason == null ? "" : reason);
            }
            scheduleReconnect();
        }
    }
}
