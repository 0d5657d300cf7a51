package dev.hostdeploy.bench.protocol;

import dev.hostdeploy.protocol.Identity;
import java.net.InetAddress;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The same frame echoed over a JDK TLS 1.3 socket, mutually authenticated with the same certificates
 * and pinned like the protocol (no CA chain): the floor TLS itself sets under any protocol that uses it,
 * without WebSocket, JSON or handlers.
 */
final class TlsSocketEcho {
    private static final char[] PASSWORD = "bench".toCharArray();

    private TlsSocketEcho() {
    }

    static ProtocolBench.Stats run(int n, Identity server, Identity client) throws Exception {
        SSLContext serverTls = context(server, client);
        SSLContext clientTls = context(client, server);
        try (SSLServerSocket ss = (SSLServerSocket) serverTls.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ss.setEnabledProtocols(new String[] {"TLSv1.3"});
            ss.setNeedClientAuth(true);
            Thread echo = new Thread(() -> ProtocolBench.echoLines(ss), "tls-echo");
            echo.setDaemon(true);
            echo.start();
            try (SSLSocket s = (SSLSocket) clientTls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                s.setEnabledProtocols(new String[] {"TLSv1.3"});
                s.setTcpNoDelay(true);
                s.startHandshake();
                if (!"TLSv1.3".equals(s.getSession().getProtocol())) {
                    throw new IllegalStateException("negotiated " + s.getSession().getProtocol());
                }
                return ProtocolBench.lineEcho(s.getInputStream(), s.getOutputStream(), n);
            }
        }
    }

    /** Presents {@code own} and accepts exactly {@code peer}'s certificate. */
    private static SSLContext context(Identity own, Identity peer) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("own", own.privateKey(), PASSWORD, new java.security.cert.Certificate[] {own.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASSWORD);
        SSLContext tls = SSLContext.getInstance("TLSv1.3");
        tls.init(kmf.getKeyManagers(), new TrustManager[] {new Pinned(peer.certificate())}, null);
        return tls;
    }

    private record Pinned(X509Certificate peer) implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0 || !chain[0].equals(peer)) {
                throw new CertificateException("not the pinned peer certificate");
            }
            chain[0].checkValidity();
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
