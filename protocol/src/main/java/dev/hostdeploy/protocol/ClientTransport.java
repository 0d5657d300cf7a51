package dev.hostdeploy.protocol;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * What all {@link AgentClient}s of one process share, so an agent connection costs sockets and memory
 * but no thread: one timer thread (timeouts, reconnect delays), a small I/O pool, and per Manager
 * identity one JDK {@link HttpClient} (one selector thread multiplexing every WebSocket) over one
 * {@link SSLContext}. Each agent is pinned to its own key through that one context: the trust manager
 * picks the expected fingerprints by the peer's host:port, which the HttpClient gives its SSLEngine.
 * The context's session cache is shared too, and a resumed session is checked against the pin of the
 * client resuming it ({@link PinCheckingContext}), not the one that made it.
 */
final class ClientTransport {
    /** Handshakes allowed at once per process; the rest wait their turn (a restart with 2,000 agents). */
    static final int MAX_HANDSHAKES = 64;
    /**
     * The JDK WebSocket's two per-connection buffers (its write buffer and the buffer it encodes text
     * frames into), 16 KiB each by default, kept for the connection's life: 32 KiB of a Manager's heap
     * per agent, 64 MB at 1,000 hosts, for frames that are mostly a few hundred bytes. 4 KiB each saves
     * 48 MB there. A longer message goes out as several frames (continuation frames, which the agents'
     * Java-WebSocket joins within its 1 MiB limit). Not smaller: with a 2 KiB write buffer the agents
     * refused some long messages as malformed frames ("bad rsv"; AgentConnectionTest). An operator's
     * own -D setting wins.
     */
    static final int WEBSOCKET_BUFFER_BYTES = 4096;

    static {
        Tls.configureProcess();
        for (String p : List.of("jdk.httpclient.websocket.writeBufferSize",
                "jdk.httpclient.websocket.intermediateBufferSize")) {
            if (System.getProperty(p) == null) {
                // Read by the JDK each time a WebSocket is built, so setting it before the first one is enough.
                System.setProperty(p, Integer.toString(WEBSOCKET_BUFFER_BYTES));
            }
        }
    }

    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(daemon("agent-clients-timer"));
    /** Runs the HttpClient's tasks and the listeners: parsing frames, completing calls. */
    static final ExecutorService IO = Executors.newFixedThreadPool(
            Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() * 2)), daemon("agent-clients-io"));

    private static final Map<X509Certificate, List<ClientTransport>> BY_IDENTITY = new ConcurrentHashMap<>();
    private static final Object HANDSHAKE_LOCK = new Object();
    private static final ArrayDeque<Runnable> WAITING = new ArrayDeque<>();
    private static int handshaking;

    final HttpClient http;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();

    /** Who expects which key at one host:port, and whom to tell how its handshake went. */
    static final class Route {
        final PeerKeyTrustManager trust;
        volatile boolean verified;

        Route(TrustPolicy policy, Consumer<String> onRefused) {
            this.trust = new PeerKeyTrustManager(policy, "agent", onRefused);
        }
    }

    /** A client's hold on a transport for its endpoint; given back on close. */
    record Lease(ClientTransport transport, String endpoint, Route route) {
        /** The transport itself stays for the next client of this identity: a Manager has one. */
        void release() {
            transport.routes.remove(endpoint, route);
        }
    }

    private ClientTransport(Identity identity) {
        SSLContext ssl;
        RoutingTrustManager trust = new RoutingTrustManager();
        try {
            SSLContext jdk = SSLContext.getInstance(Tls.PROTOCOL);
            jdk.init(new KeyManager[] {new OwnKeyManager(identity)}, new TrustManager[] {trust}, new SecureRandom());
            // Resumed TLS 1.3 sessions skip the trust manager: their engines check the pin themselves.
            ssl = new PinCheckingContext(jdk, trust);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS 1.3 is not available in this JVM", e);
        }
        SSLParameters parameters = ssl.getDefaultSSLParameters();
        Tls.restrict(parameters, false);
        this.http = HttpClient.newBuilder().sslContext(ssl).sslParameters(parameters).executor(IO)
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    /**
     * The transport for {@code identity} on which {@code uri}'s endpoint is pinned to {@code policy}. Two
     * live clients for one endpoint with different trust (tests do it) get different transports.
     */
    static Lease lease(Identity identity, URI uri, TrustPolicy policy, Consumer<String> onRefused) {
        String endpoint = endpoint(uri.getHost(), uri.getPort());
        Route route = new Route(policy, onRefused);
        X509Certificate key = identity.certificate();
        ClientTransport[] chosen = new ClientTransport[1];
        BY_IDENTITY.compute(key, (k, list) -> {
            List<ClientTransport> l = list == null ? new CopyOnWriteArrayList<>() : list;
            for (ClientTransport t : l) {
                if (t.routes.putIfAbsent(endpoint, route) == null) {
                    chosen[0] = t;
                    return l;
                }
            }
            ClientTransport t = new ClientTransport(identity);
            t.routes.put(endpoint, route);
            l.add(t);
            chosen[0] = t;
            return l;
        });
        return new Lease(chosen[0], endpoint, route);
    }

    static String endpoint(String host, int port) {
        String h = host == null ? "" : host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h + ":" + port;
    }

    /** Runs {@code handshake} now or when fewer than {@link #MAX_HANDSHAKES} are in progress. */
    static void whenHandshakeSlotFree(Runnable handshake) {
        synchronized (HANDSHAKE_LOCK) {
            if (handshaking >= MAX_HANDSHAKES) {
                WAITING.add(handshake);
                return;
            }
            handshaking++;
        }
        runSafely(handshake);
    }

    /** Called once per handshake started through {@link #whenHandshakeSlotFree}, whatever its outcome. */
    static void handshakeDone() {
        Runnable next;
        synchronized (HANDSHAKE_LOCK) {
            next = WAITING.poll();
            if (next == null) {
                handshaking--;
                return;
            }
        }
        IO.execute(() -> runSafely(next));
    }

    private static void runSafely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            handshakeDone();
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Delegates to the pinning trust manager of the client that dialled this engine's peer. */
    private final class RoutingTrustManager extends X509ExtendedTrustManager {
        private Route route(SSLEngine engine) throws CertificateException {
            Route r = engine == null ? null : routes.get(endpoint(engine.getPeerHost(), engine.getPeerPort()));
            if (r == null) {
                throw new CertificateException("no agent is expected at " + (engine == null ? "?"
                        : engine.getPeerHost() + ":" + engine.getPeerPort()));
            }
            return r;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            Route r = route(engine);
            r.trust.checkServerTrusted(chain, authType, engine);
            r.verified = true;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("agent connections use SSLEngine only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("agent connections use SSLEngine only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("the Manager accepts no clients here");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("the Manager accepts no clients here");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the Manager accepts no clients here");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
