package dev.hostdeploy.protocol;

import java.lang.management.ManagementFactory;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS 1.3 only, both sides authenticated by pinned public keys. */
public final class Tls {
    static final String PROTOCOL = "TLSv1.3";
    static final String CHACHA20_POLY1305 = "TLS_CHACHA20_POLY1305_SHA256";
    static final String AES_128_GCM = "TLS_AES_128_GCM_SHA256";
    static final String AES_256_GCM = "TLS_AES_256_GCM_SHA384";

    /**
     * TLS 1.3's three suites, the one cheapest on this JVM first, decided once. Every frame is a TLS
     * record, so at 2,000 agents the record cipher is a Manager's largest single cost. AES-GCM is cheap
     * only through C2's AES and GHASH intrinsics; under C1 alone (the {@code -XX:TieredStopAtLevel=1}
     * the programs ship with, for memory) it runs as plain Java, 4-6 times the CPU of ChaCha20-Poly1305
     * for a 0.6-4 KB record (docs/protocol.md). All three are strong; only the cost differs.
     */
    static final List<String> CIPHER_SUITES = cipherSuites(aesAccelerated());

    /**
     * The key-exchange groups, unless the operator set {@code jdk.tls.namedGroups}: X25519 alone. JDK 17's
     * client sends a key share for each of its first two kinds of group (X25519 and P-256 by default), and
     * making the P-256 one was a fifth of a Manager's CPU while 1,000 agents reconnected; every peer here
     * (the JDK, OpenSSL) does X25519. JDK 17 reads the property once per process and has no per-connection
     * setting, so it applies to the process's other TLS clients too (GitHub's API does X25519 as well).
     */
    static final String NAMED_GROUPS = "x25519";

    /**
     * Set to {@code jdk} ({@code -Dhostdeploy.tls.crypto=jdk}) to keep the JDK's own ECDSA and X25519 for the
     * handshakes instead of BouncyCastle's: under C1 a whole handshake then costs two to three times the CPU
     * (docs/operations.md; {@link EcdsaProvider}, {@link X25519Provider}). Read at {@link #configureProcess()}.
     */
    static final String CRYPTO_PROPERTY = "hostdeploy.tls.crypto";

    static {
        configureProcess();
    }

    /**
     * What this process's TLS needs before its first handshake: the signature and key-exchange providers
     * (unless {@value #CRYPTO_PROPERTY} is {@code jdk}) and the named groups, which the JDK reads once, at
     * the first TLS context any library makes (an HTTP client made at start-up is enough). A program calls
     * it first thing in {@code main}; the agent server and the agent clients' transport call it too, since
     * referring to {@link #PROTOCOL}, a constant, does not load this class.
     */
    public static synchronized void configureProcess() {
        if (!"jdk".equalsIgnoreCase(System.getProperty(CRYPTO_PROPERTY, "").strip())) {
            EcdsaProvider.install();
            X25519Provider.install();
        }
        if (System.getProperty("jdk.tls.namedGroups") == null) {
            System.setProperty("jdk.tls.namedGroups", NAMED_GROUPS);
        }
    }

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

    /**
     * Restricts parameters to TLS 1.3, in {@link #CIPHER_SUITES}' order; no endpoint identification,
     * since trust is the pinned key. An agent follows the Manager's order (the JDK's server would impose
     * its own): the Manager carries every agent's connection, each agent only one. An operator's
     * {@code jdk.tls.client.cipherSuites} or {@code jdk.tls.server.cipherSuites} still wins.
     */
    static void restrict(SSLParameters parameters, boolean server) {
        parameters.setProtocols(new String[] {PROTOCOL});
        parameters.setEndpointIdentificationAlgorithm(null);
        if (System.getProperty(server ? "jdk.tls.server.cipherSuites" : "jdk.tls.client.cipherSuites") == null) {
            parameters.setCipherSuites(CIPHER_SUITES.toArray(String[]::new));
            parameters.setUseCipherSuitesOrder(!server);
        }
    }

    static List<String> cipherSuites(boolean aesAccelerated) {
        return aesAccelerated ? List.of(AES_128_GCM, CHACHA20_POLY1305, AES_256_GCM)
                : List.of(CHACHA20_POLY1305, AES_128_GCM, AES_256_GCM);
    }

    /**
     * True when this HotSpot JVM has C2 and the CPU's AES instructions (C2's AES-GCM intrinsics need both;
     * the intrinsic flags themselves are diagnostic options, not readable here); AES-GCM first, as the JDK
     * orders it, when the flags cannot be read.
     */
    static boolean aesAccelerated() {
        try {
            var vm = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            boolean intrinsics = Boolean.parseBoolean(vm.getVMOption("UseAES").getValue());
            boolean c2 = !Boolean.parseBoolean(vm.getVMOption("TieredCompilation").getValue())
                    || Integer.parseInt(vm.getVMOption("TieredStopAtLevel").getValue()) >= 4;
            return intrinsics && c2;
        } catch (RuntimeException | LinkageError e) {
            return true; // not HotSpot, or no jdk.management: keep AES-GCM first, as the JDK does
        }
    }
}
