package dev.hostdeploy.protocol;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.SSLParametersWebSocketServerFactory;
import org.java_websocket.server.WebSocketServer;

/**
 * An agent that, unlike {@link AgentServer}, lets the Manager resume its TLS 1.3 sessions (as an agent
 * on another TLS stack may, OpenSSL's included), answering only {@code info}. It counts the full
 * handshakes: a connection that did not add one was resumed.
 */
final class ResumingAgent extends WebSocketServer implements AutoCloseable {
    final Identity identity;
    final AtomicInteger fullHandshakes = new AtomicInteger();
    private final CountDownLatch started = new CountDownLatch(1);

    ResumingAgent(Identity identity, Identity manager) throws Exception {
        super(new InetSocketAddress("127.0.0.1", 0));
        this.identity = identity;
        SSLContext ssl = SSLContext.getInstance(Tls.PROTOCOL);
        ssl.init(new KeyManager[] {new OwnKeyManager(identity)}, new TrustManager[] {new CountingTrust(manager)},
                new SecureRandom());
        SSLParameters params = ssl.getDefaultSSLParameters();
        Tls.restrict(params, true);
        params.setNeedClientAuth(true);
        setWebSocketFactory(new SSLParametersWebSocketServerFactory(ssl, new GatedTlsServerFactory.InlineTasks(), params));
        setReuseAddr(true);
    }

    ResumingAgent begin() throws InterruptedException {
        start();
        if (!started.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("did not start");
        }
        return this;
    }

    URI uri() {
        return URI.create("wss://127.0.0.1:" + getPort() + AgentServer.PATH);
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        Frame frame = Frame.parse(message);
        if (AgentInfo.COMMAND.equals(frame.command())) {
            conn.send(new Frame.Result(frame.id(), new AgentInfo("resuming-agent", "1.0.0", "localhost",
                    AgentServer.PROTOCOL_VERSION, identity.fingerprint(), new java.util.TreeSet<>(Set.of(AgentInfo.COMMAND)))).toJson());
        }
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
    }

    @Override
    public void onStart() {
        started.countDown();
    }

    @Override
    public void close() {
        try {
            stop(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Trusts the one Manager key and leaves the session resumable. */
    private final class CountingTrust extends X509ExtendedTrustManager {
        private final String manager;

        CountingTrust(Identity manager) {
            this.manager = manager.fingerprint();
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            fullHandshakes.incrementAndGet();
            if (chain == null || chain.length == 0 || !Fingerprints.of(chain[0]).equals(manager)) {
                throw new CertificateException("not the manager");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("server only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("server only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("server only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
