package dev.hostdeploy.protocol;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts a peer only by its pinned public key, as jenkinsci/remoting's
 * PublicKeyMatchingX509ExtendedTrustManager does: no CA chain, no hostname, just "is this key's
 * fingerprint one we trust, and is its certificate in its validity window". The TLS handshake itself
 * proves the peer holds the matching private key.
 */
final class PeerKeyTrustManager extends X509ExtendedTrustManager {
    private static final Logger LOG = LoggerFactory.getLogger(PeerKeyTrustManager.class);
    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];
    /**
     * A refused key is logged the first time, then at most once a minute (with the count of those not
     * logged), and at most 20 refusal lines a minute in all: a peer retrying, or one making a new key
     * per attempt, cannot fill the disk.
     */
    private final LogLimiter refusals = new LogLimiter(1, java.util.concurrent.TimeUnit.MINUTES, 20);

    private final TrustPolicy trust;
    private final String peerRole;
    private final Consumer<String> onRefused;

    PeerKeyTrustManager(TrustPolicy trust, String peerRole, Consumer<String> onRefused) {
        this.trust = trust;
        this.peerRole = peerRole;
        this.onRefused = onRefused;
    }

    private void verify(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the " + peerRole + " presented no certificate");
        }
        X509Certificate peer = chain[0];
        String fingerprint = Fingerprints.of(peer);
        // Validity first: an expired certificate is refused even on a trusted key, so a stolen old
        // certificate file can't be replayed forever.
        peer.checkValidity();
        if (!trust.trusts(fingerprint)) {
            long suppressed = refusals.admit(fingerprint);
            if (suppressed >= 0) {
                // The subject is the peer's text: escaped, so it cannot forge a line of its own.
                String subject = LogSafe.of(peer.getSubjectX500Principal().getName());
                String more = suppressed == 0 ? "" : " (" + suppressed + " more refusals not logged)";
                if (peerRole.equals("manager")) {
                    LOG.warn("refused {} with untrusted key {} ({}); if it is yours, trust it with: "
                            + "trust --name NAME --fingerprint {}{}", peerRole, fingerprint, subject, fingerprint, more);
                } else {
                    // The client (the Manager) has no trust command: it says in its own words what to change.
                    LOG.warn("refused {} with untrusted key {} ({}){}", peerRole, fingerprint, subject, more);
                }
            }
            onRefused.accept(fingerprint);
            throw new CertificateException("untrusted " + peerRole + " key " + fingerprint);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verify(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verify(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        verify(chain);
        if (socket instanceof SSLSocket s) {
            notResumable(s.getHandshakeSession());
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        verify(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        verify(chain);
        if (engine != null) {
            notResumable(engine.getHandshakeSession());
        }
    }

    /**
     * A server judges its client here, in a full handshake only: a TLS 1.3 client resuming the session
     * later sends no certificate, and an agent would then serve a Manager its trust list dropped since.
     * An invalidated session gets no session ticket, so every connection is a full handshake; an agent
     * serves one Manager, resuming would save it one handshake per reconnect.
     */
    private static void notResumable(SSLSession handshake) {
        if (handshake != null) {
            handshake.invalidate();
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        verify(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return NO_ISSUERS;
    }
}
