package dev.hostdeploy.bench.crypto;

import dev.hostdeploy.protocol.Identity;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Whole mutual TLS 1.3 handshakes between two in-memory SSLEngines with P-256 identities, as a Manager and an
 * agent make them (no resumption: an engine made without a peer address never resumes, and after a kill -9
 * the Manager has no sessions anyway). Trust accepts any certificate: the programs' pinned-key check is a
 * hash, and the peer's CertificateVerify signature is checked by JSSE regardless.
 */
final class Handshakes {
    private Handshakes() {
    }

    static HandshakeCryptoBench.Op pair() throws Exception {
        SSLContext manager = context(Identity.generate("manager"));
        SSLContext agent = context(Identity.generate("agent"));
        return () -> handshake(manager, agent);
    }

    private static int handshake(SSLContext clientContext, SSLContext serverContext) throws Exception {
        SSLEngine client = clientContext.createSSLEngine();
        client.setUseClientMode(true);
        SSLEngine server = serverContext.createSSLEngine();
        server.setUseClientMode(false);
        for (SSLEngine engine : new SSLEngine[] {client, server}) {
            SSLParameters params = engine.getSSLParameters();
            params.setProtocols(new String[] {"TLSv1.3"});
            params.setNeedClientAuth(!engine.getUseClientMode());
            engine.setSSLParameters(params);
        }
        int size = 4 * client.getSession().getPacketBufferSize(); // a whole flight fits
        ByteBuffer toServer = ByteBuffer.allocate(size);
        ByteBuffer toClient = ByteBuffer.allocate(size);
        ByteBuffer app = ByteBuffer.allocate(client.getSession().getApplicationBufferSize());
        ByteBuffer empty = ByteBuffer.allocate(0);
        client.beginHandshake();
        server.beginHandshake();
        for (int rounds = 0; rounds < 100; rounds++) {
            if (done(client) && done(server)) {
                return toClient.position() + toServer.position();
            }
            step(client, empty, toServer, toClient, app);
            step(server, empty, toClient, toServer, app);
        }
        throw new IllegalStateException("handshake did not finish: " + client.getHandshakeStatus() + "/" + server.getHandshakeStatus());
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    /** One side's turn: read what the other side wrote, run its tasks, write what it has to send. */
    private static void step(SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer app) throws Exception {
        in.flip();
        while (in.hasRemaining()) {
            app.clear();
            int before = in.remaining();
            engine.unwrap(in, app);
            runTasks(engine);
            if (in.remaining() == before) {
                break;
            }
        }
        in.compact();
        while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            SSLEngineResult result = engine.wrap(empty, out);
            runTasks(engine);
            if (result.getStatus() != SSLEngineResult.Status.OK || result.bytesProduced() == 0) {
                break; // the other side reads first
            }
        }
    }

    private static void runTasks(SSLEngine engine) {
        for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
            task.run();
        }
    }

    private static SSLContext context(Identity identity) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "bench".toCharArray();
        store.setKeyEntry("id", identity.privateKey(), password, new X509Certificate[] {identity.certificate()});
        KeyManagerFactory keys = KeyManagerFactory.getInstance("SunX509");
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keys.getKeyManagers(), new TrustManager[] {new AnyCertificate()}, null);
        return context;
    }

    private static final class AnyCertificate extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
