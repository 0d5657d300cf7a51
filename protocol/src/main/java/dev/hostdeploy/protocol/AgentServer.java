package dev.hostdeploy.protocol;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLParameters;
import org.java_websocket.WebSocket;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent side of the protocol: a WebSocket server over mutual TLS 1.3 at {@link #PATH} that serves
 * one Manager connection at a time and hands its requests to a {@link Dispatcher} over a
 * {@link HandlerRegistry}. This class is only the transport: TLS and the WebSocket; the one slot is
 * {@link ManagerSlot}, the policing of pending and stalled connections {@link ConnectionWatchdog}.
 */
public final class AgentServer implements AutoCloseable {
    public static final String PATH = "/hostdeploy/v1";
    public static final int PROTOCOL_VERSION = 1;
    /** Close code for a connection refused because another Manager holds the slot. */
    public static final int CLOSE_SLOT_TAKEN = 4409;
    static final int MAX_FRAME_BYTES = 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(AgentServer.class);

    public static Builder builder(Identity identity, TrustPolicy trust, HandlerRegistry registry) {
        return new Builder(identity, trust, registry);
    }

    public static final class Builder {
        final Identity identity;
        final TrustPolicy trust;
        final HandlerRegistry registry;
        InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
        String kind = "agent";
        String version = "0.0.0";
        int protocolVersion = PROTOCOL_VERSION;
        Duration connectionLostTimeout = Duration.ofSeconds(30);
        int workerThreads = 32;
        int maxPendingConnections = 128;
        int maxPendingPerAddress = 32;
        Duration handshakeTimeout = Duration.ofSeconds(5);
        java.util.function.Supplier<?> details;

        Builder(Identity identity, TrustPolicy trust, HandlerRegistry registry) {
            this.identity = identity;
            this.trust = trust;
            this.registry = registry;
        }

        public Builder listen(InetSocketAddress address) {
            this.listen = address;
            return this;
        }

        public Builder kind(String kind) {
            this.kind = kind;
            return this;
        }

        /** The protocol version {@code info} reports; only tests set another (an agent older or newer than the Manager). */
        public Builder protocolVersion(int protocolVersion) {
            this.protocolVersion = protocolVersion;
            return this;
        }

        public Builder version(String version) {
            this.version = version;
            return this;
        }

        /** How long without a pong before a connection is dropped and its slot freed. */
        public Builder connectionLostTimeout(Duration timeout) {
            this.connectionLostTimeout = timeout;
            return this;
        }

        /** Threads for blocking handlers; requests beyond them queue, and a full queue answers busy. */
        public Builder workerThreads(int n) {
            this.workerThreads = n;
            return this;
        }

        /**
         * How many connections may be between accept and the end of the WebSocket upgrade, in all and
         * from one address (sshd's MaxStartups). Past either limit a pending connection (of that
         * address, or of all) is closed to admit the new one: the oldest of those that got least far
         * ({@link HandshakeGate}), so a flood cannot lock the Manager out.
         */
        public Builder maxPendingConnections(int total, int perAddress) {
            this.maxPendingConnections = total;
            this.maxPendingPerAddress = perAddress;
            return this;
        }

        /** How long a connection may take from accept to the end of the upgrade (sshd's LoginGraceTime). */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = timeout;
            return this;
        }

        /** What {@code info} reports as {@code details}, asked on each {@code info}; null: nothing. */
        public Builder details(java.util.function.Supplier<?> details) {
            this.details = details;
            return this;
        }

        public AgentServer build() {
            return new AgentServer(this);
        }
    }

    private final Builder config;
    private final Server server;
    private final ThreadPoolExecutor pool;
    private final ManagerSlot slot = new ManagerSlot();
    private final Dispatcher dispatcher;
    private final CountDownLatch started = new CountDownLatch(1);
    private final AtomicReference<Exception> startFailure = new AtomicReference<>();
    private final HandlerRegistry builtins = new HandlerRegistry();
    private final ConnectionWatchdog watchdog;
    private final PeerKeyTrustManager managerTrust;
    private volatile boolean closing;

    private AgentServer(Builder b) {
        this.config = b;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(b.workerThreads, b.workerThreads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(10_000), r -> {
                    Thread t = new Thread(r, b.kind + "-handler-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        builtins.registerInline(AgentInfo.Pong.COMMAND, ctx -> new AgentInfo.Pong(System.currentTimeMillis()));
        builtins.registerInline(AgentInfo.COMMAND, ctx -> info());
        for (String c : b.registry.commands()) {
            if (builtins.commands().contains(c)) {
                throw new IllegalArgumentException("command " + c + " is built in");
            }
        }
        this.dispatcher = new Dispatcher(pool, this::sendEvent, builtins, b.registry);
        this.managerTrust = new PeerKeyTrustManager(b.trust, "manager", fp -> { });
        SSLContext ssl = Tls.context(b.identity, managerTrust);
        SSLParameters params = ssl.getDefaultSSLParameters();
        Tls.restrict(params, true);
        params.setNeedClientAuth(true);
        List<Draft> drafts = List.of(new Draft_6455(Collections.emptyList(), MAX_FRAME_BYTES));
        this.server = new Server(b.listen, drafts);
        this.watchdog = new ConnectionWatchdog(b.kind, slot, b.maxPendingConnections, b.maxPendingPerAddress,
                b.handshakeTimeout);
        server.setWebSocketFactory(new GatedTlsServerFactory(ssl, params, watchdog.gate(), watchdog::evict));
        // The kernel's accept queue: accepting is cheap now, but a burst must not drop the Manager's SYN.
        server.setMaxPendingConnections(1024);
        server.setReuseAddr(true);
        server.setTcpNoDelay(true);
        int lost = (int) Math.max(1, b.connectionLostTimeout.toSeconds() * 2 / 3);
        // Java-WebSocket pings every `lost` seconds and drops a peer silent for 1.5x that.
        server.setConnectionLostTimeout(lost);
    }

    /** Connections accepted but not yet upgraded (for tests and the bench). */
    int pendingConnections() {
        return watchdog.gate().size();
    }

    private AgentInfo info() {
        java.util.TreeSet<String> commands = new java.util.TreeSet<>(config.registry.commands());
        commands.addAll(builtins.commands());
        Object details = config.details == null ? null : config.details.get();
        return new AgentInfo(config.kind, config.version, hostname(), config.protocolVersion, config.identity.fingerprint(),
                commands, details == null ? null : Json.MAPPER.valueToTree(details));
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }

    /** Binds and returns once the agent is listening. */
    public void start() throws InterruptedException {
        server.start();
        watchdog.start(server);
        if (!started.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("agent server did not start within 30 s");
        }
        Exception failure = startFailure.get();
        if (failure != null) {
            throw new IllegalStateException("agent server could not listen on " + config.listen + ": "
                    + failure.getMessage(), failure);
        }
    }

    public int port() {
        return server.getPort();
    }

    public String fingerprint() {
        return config.identity.fingerprint();
    }

    /** Sends an {@code event} frame to the connected Manager; dropped when none is connected. */
    public void sendEvent(Object data) {
        WebSocket conn = slot.current();
        if (conn != null) {
            send(conn, new Frame.Event(data == null ? Map.of() : data));
        }
    }

    int lastCloseCode() {
        return slot.lastCloseCode();
    }

    public boolean hasConnection() {
        return slot.current() != null;
    }

    @Override
    public void close() {
        closing = true;
        watchdog.close();
        try {
            server.stop(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.shutdownNow();
    }

    /** The reply sink of one connection. */
    private static void send(WebSocket conn, Frame frame) {
        String text = frame.toJson();
        try {
            conn.send(text);
        } catch (org.java_websocket.exceptions.WebsocketNotConnectedException e) {
            // The Manager went away while the handler ran; the reply has nowhere to go.
        }
    }

    private final class Server extends WebSocketServer {
        Server(InetSocketAddress address, List<Draft> drafts) {
            super(address, drafts);
        }

        @Override
        public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft,
                ClientHandshake request) throws InvalidDataException {
            String path = request.getResourceDescriptor();
            if (!PATH.equals(path)) {
                throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "unknown path " + path);
            }
            if (!stillTrusted(conn)) {
                throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "untrusted manager key");
            }
            return super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
        }

        @Override
        public void onOpen(WebSocket conn, ClientHandshake handshake) {
            watchdog.gate().done(conn);
            if (!slot.take(conn)) {
                return;
            }
            conn.setAttachment(dispatcher.open(frame -> send(conn, frame)));
            LOG.info("manager connected from {}", conn.getRemoteSocketAddress());
        }

        /**
         * The Manager's key against the trust list as it is now, whatever the TLS layer did: the trust
         * manager sees only full handshakes, and this also holds if a JDK resumed a session made before
         * an {@code untrust} (the agent's sessions are made non-resumable, {@link PeerKeyTrustManager}).
         */
        private boolean stillTrusted(WebSocket conn) {
            try {
                Certificate[] chain = conn.getSSLSession().getPeerCertificates();
                X509Certificate[] x509 = new X509Certificate[chain.length];
                for (int i = 0; i < chain.length; i++) {
                    if (!(chain[i] instanceof X509Certificate c)) {
                        return false;
                    }
                    x509[i] = c;
                }
                managerTrust.checkClientTrusted(x509, "UNKNOWN");
                return true;
            } catch (IllegalArgumentException | SSLPeerUnverifiedException | CertificateException e) {
                return false;
            }
        }

        @Override
        protected boolean removeConnection(WebSocket conn) {
            // Called for every connection that closes, upgraded or not.
            watchdog.gate().done(conn);
            return super.removeConnection(conn);
        }

        @Override
        public void onClose(WebSocket conn, int code, String reason, boolean remote) {
            slot.release(conn, code, reason);
        }

        @Override
        public void onMessage(WebSocket conn, String message) {
            if (slot.holds(conn)) {
                conn.<Dispatcher.Session>getAttachment().receive(message);
            }
        }

        @Override
        public void onMessage(WebSocket conn, ByteBuffer message) {
            if (slot.holds(conn)) {
                send(conn, new Frame.Error(null,
                        ErrorData.of(ErrorCode.BAD_REQUEST, "binary frames are not used; send JSON text", null)));
            }
        }

        @Override
        public void onError(WebSocket conn, Exception ex) {
            if (conn == null) {
                startFailure.compareAndSet(null, ex);
                started.countDown();
                if (closing) {
                    LOG.debug("error while closing: {}", ex.toString());
                } else {
                    LOG.error("agent server error", ex);
                }
            } else {
                LOG.debug("connection error from {}: {}", conn.getRemoteSocketAddress(), LogSafe.of(ex));
            }
        }

        @Override
        public void onStart() {
            LOG.info("{} {} listening on {}:{}{} as {}", config.kind, config.version,
                    config.listen.getHostString(), getPort(), PATH, config.identity.fingerprint());
            started.countDown();
        }
    }
}
