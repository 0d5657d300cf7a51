package dev.hostdeploy.protocol;

import java.nio.ByteBuffer;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A client {@link SSLContext} whose engines check the agent's key against its pin once every handshake
 * is over, resumed or not. A TLS 1.3 client resuming a session with a pre-shared key receives no
 * certificate, so the trust manager is not asked: without this check a connection to an address whose
 * pin an admin changed could resume a session made under the old pin and be accepted. The check reads
 * the certificate the session was first verified with (a resumed session keeps it) and runs it through
 * the same trust manager; a refused session is invalidated so the next attempt is a full handshake.
 * Sessions made under the current pin still resume.
 */
final class PinCheckingContext extends SSLContext {
    PinCheckingContext(SSLContext delegate, X509ExtendedTrustManager trust) {
        super(new Spi(delegate, trust), delegate.getProvider(), delegate.getProtocol());
    }

    private static final class Spi extends SSLContextSpi {
        private final SSLContext delegate;
        private final X509ExtendedTrustManager trust;

        Spi(SSLContext delegate, X509ExtendedTrustManager trust) {
            this.delegate = delegate;
            this.trust = trust;
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
            throw new KeyManagementException("already initialised");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            throw new UnsupportedOperationException("agent connections use SSLEngine only");
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            throw new UnsupportedOperationException("agent connections use SSLEngine only");
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return new Engine(delegate.createSSLEngine(), trust);
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return new Engine(delegate.createSSLEngine(host, port), trust);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return delegate.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return delegate.getSupportedSSLParameters();
        }
    }

    /** The JDK's engine, plus the pin check before the first application byte goes either way. */
    static final class Engine extends SSLEngine {
        /** What {@link SSLEngine#getSession()} reports before an initial handshake completed. */
        private static final String NO_SESSION = "SSL_NULL_WITH_NULL_NULL";
        private final SSLEngine delegate;
        private final X509ExtendedTrustManager trust;
        private volatile boolean begun;
        private volatile boolean checked;

        Engine(SSLEngine delegate, X509ExtendedTrustManager trust) {
            super(delegate.getPeerHost(), delegate.getPeerPort());
            this.delegate = delegate;
            this.trust = trust;
        }

        /** Checks once the handshake is over (FINISHED now, or no longer handshaking since an earlier call). */
        private void checkIfEstablished(HandshakeStatus status) throws SSLException {
            if (checked || !begun) {
                return;
            }
            if (status != HandshakeStatus.FINISHED && delegate.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
                return;
            }
            SSLSession session = delegate.getSession();
            if (NO_SESSION.equals(session.getCipherSuite())) {
                return; // the handshake failed or never ran: no application data can flow
            }
            try {
                Certificate[] chain = session.getPeerCertificates();
                X509Certificate[] x509 = new X509Certificate[chain.length];
                for (int i = 0; i < chain.length; i++) {
                    if (!(chain[i] instanceof X509Certificate c)) {
                        throw new CertificateException("the agent's certificate is not X.509");
                    }
                    x509[i] = c;
                }
                trust.checkServerTrusted(x509, "UNKNOWN", delegate);
                checked = true;
            } catch (SSLPeerUnverifiedException | CertificateException e) {
                session.invalidate();
                delegate.closeOutbound();
                throw (SSLHandshakeException) new SSLHandshakeException(
                        "the agent's session was not made with its pinned key: " + e.getMessage()).initCause(e);
            }
        }

        @Override
        public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
            checkIfEstablished(null);
            begun = true;
            SSLEngineResult r = delegate.wrap(srcs, offset, length, dst);
            checkIfEstablished(r.getHandshakeStatus());
            return r;
        }

        @Override
        public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
            checkIfEstablished(null);
            begun = true;
            SSLEngineResult r = delegate.unwrap(src, dsts, offset, length);
            checkIfEstablished(r.getHandshakeStatus());
            return r;
        }

        @Override
        public void beginHandshake() throws SSLException {
            begun = true;
            delegate.beginHandshake();
        }

        @Override
        public Runnable getDelegatedTask() {
            return delegate.getDelegatedTask();
        }

        @Override
        public void closeInbound() throws SSLException {
            delegate.closeInbound();
        }

        @Override
        public boolean isInboundDone() {
            return delegate.isInboundDone();
        }

        @Override
        public void closeOutbound() {
            delegate.closeOutbound();
        }

        @Override
        public boolean isOutboundDone() {
            return delegate.isOutboundDone();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return delegate.getSupportedCipherSuites();
        }

        @Override
        public String[] getEnabledCipherSuites() {
            return delegate.getEnabledCipherSuites();
        }

        @Override
        public void setEnabledCipherSuites(String[] suites) {
            delegate.setEnabledCipherSuites(suites);
        }

        @Override
        public String[] getSupportedProtocols() {
            return delegate.getSupportedProtocols();
        }

        @Override
        public String[] getEnabledProtocols() {
            return delegate.getEnabledProtocols();
        }

        @Override
        public void setEnabledProtocols(String[] protocols) {
            delegate.setEnabledProtocols(protocols);
        }

        @Override
        public SSLSession getSession() {
            return delegate.getSession();
        }

        @Override
        public SSLSession getHandshakeSession() {
            return delegate.getHandshakeSession();
        }

        @Override
        public HandshakeStatus getHandshakeStatus() {
            return delegate.getHandshakeStatus();
        }

        @Override
        public void setUseClientMode(boolean mode) {
            delegate.setUseClientMode(mode);
        }

        @Override
        public boolean getUseClientMode() {
            return delegate.getUseClientMode();
        }

        @Override
        public void setNeedClientAuth(boolean need) {
            delegate.setNeedClientAuth(need);
        }

        @Override
        public boolean getNeedClientAuth() {
            return delegate.getNeedClientAuth();
        }

        @Override
        public void setWantClientAuth(boolean want) {
            delegate.setWantClientAuth(want);
        }

        @Override
        public boolean getWantClientAuth() {
            return delegate.getWantClientAuth();
        }

        @Override
        public void setEnableSessionCreation(boolean flag) {
            delegate.setEnableSessionCreation(flag);
        }

        @Override
        public boolean getEnableSessionCreation() {
            return delegate.getEnableSessionCreation();
        }

        @Override
        public SSLParameters getSSLParameters() {
            return delegate.getSSLParameters();
        }

        @Override
        public void setSSLParameters(SSLParameters params) {
            delegate.setSSLParameters(params);
        }

        @Override
        public String getApplicationProtocol() {
            return delegate.getApplicationProtocol();
        }

        @Override
        public String getHandshakeApplicationProtocol() {
            return delegate.getHandshakeApplicationProtocol();
        }

        @Override
        public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
            delegate.setHandshakeApplicationProtocolSelector(selector);
        }

        @Override
        public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
            return delegate.getHandshakeApplicationProtocolSelector();
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }
}
