package dev.hostdeploy.protocol;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS 1.3 only, both sides authenticated by pinned public keys. */
final class Tls {
    static final String PROTOCOL = "TLSv1.3";

    private Tls() {
    }

    static SSLContext context(Identity identity, TrustPolicy trust, String peerRole, Consumer<String> onRefused) {
        return context(identity, new PeerKeyTrustManager(trust, peerRole, onRefused));
    }

    static SSLContext context(Identity identity, X509ExtendedTrustManager trust) {
        try {
            SSLContext context = SSLContext.getInstance(PROTOCOL);
            context.init(new KeyManager[] {new OwnKeyManager(identity)}, new TrustManager[] {trust}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS 1.3 is not available in this JVM", e);
        }
    }

    /** Restricts parameters to TLS 1.3; no endpoint identification, since trust is the pinned key. */
    static void restrict(SSLParameters parameters) {
        parameters.setProtocols(new String[] {PROTOCOL});
        parameters.setEndpointIdentificationAlgorithm(null);
    }
}
