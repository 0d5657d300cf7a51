package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The record cipher is the Manager's largest cost at scale, so the Manager picks it: an agent follows the
 * Manager's order, and the order puts first what this JVM computes cheapest.
 */
@Timeout(60)
class CipherSuiteTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    @Test
    void anAgentUsesTheSuiteTheManagerPrefers() throws Exception {
        try (AgentFixture agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start()) {
            SSLContext manager = Tls.context(ids.get("manager"),
                    TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())), "agent", fp -> { });
            for (List<String> order : List.of(Tls.cipherSuites(false), Tls.cipherSuites(true),
                    List.of(Tls.AES_256_GCM, Tls.CHACHA20_POLY1305))) {
                assertThat(negotiated(manager, agent.port, order)).as("offered %s", order).isEqualTo(order.get(0));
            }
        }
    }

    @Test
    void anAgentConnectionsKeyExchangeIsX25519ComputedByBouncyCastleOnBothSides() throws Exception {
        assertThat(javax.crypto.KeyAgreement.getInstance("XDH").getProvider().getName()).isEqualTo("HostdeployX25519");
        try (AgentFixture agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start()) {
            long before = X25519Provider.AGREEMENTS.sum();
            try (AgentClient client = agent.connected()) {
                assertThat(client.call("test.echo", java.util.Map.of("x", 1)).get(10, TimeUnit.SECONDS).path("x").asInt())
                        .isEqualTo(1);
            }
            // One X25519 agreement per side (the provider computes X25519 only), the Manager's and the agent's.
            assertThat(X25519Provider.AGREEMENTS.sum() - before).isEqualTo(2);
        }
    }

    @Test
    void anOperatorCanKeepTheJdksOwnHandshakeCrypto() throws Exception {
        assertThat(run(PrintProviders.class, "-D" + Tls.CRYPTO_PROPERTY + "=jdk")).isEqualTo("SunEC,SunEC");
        assertThat(run(PrintProviders.class, "-XX:TieredStopAtLevel=1")).isEqualTo("HostdeployEcdsa,HostdeployX25519");
    }

    /** Who computes a handshake's signature and key agreement in a JVM configured through {@link Tls}. */
    static final class PrintProviders {
        public static void main(String[] args) throws Exception {
            Tls.configureProcess();
            java.security.Signature signature = java.security.Signature.getInstance(EcdsaProvider.ALGORITHM);
            signature.initSign(Identity.generate("x").privateKey());
            javax.crypto.KeyAgreement agreement = javax.crypto.KeyAgreement.getInstance("XDH");
            var generator = java.security.KeyPairGenerator.getInstance("XDH");
            generator.initialize(java.security.spec.NamedParameterSpec.X25519);
            agreement.init(generator.generateKeyPair().getPrivate());
            System.out.println(signature.getProvider().getName() + "," + agreement.getProvider().getName());
        }
    }

    @Test
    void withoutC2TheManagerPrefersChaCha20AndWithItAesGcm() {
        assertThat(Tls.cipherSuites(false)).first().isEqualTo(Tls.CHACHA20_POLY1305);
        assertThat(Tls.cipherSuites(true)).first().isEqualTo(Tls.AES_128_GCM);
        assertThat(Tls.cipherSuites(false)).containsExactlyInAnyOrderElementsOf(Tls.cipherSuites(true))
                .hasSize(3);
    }

    @Test
    void aJvmWithoutC2PutsChaCha20First() throws Exception {
        assertThat(suitesOfAJvmWith("-XX:TieredStopAtLevel=1")).startsWith(Tls.CHACHA20_POLY1305);
        // With C2 it depends on the CPU's AES instructions (present on the x86-64 machines this runs on).
        assertThat(suitesOfAJvmWith("-XX:TieredStopAtLevel=4")).startsWith(Tls.AES_128_GCM);
    }

    @Test
    void theManagersClientHelloCarriesOneKeyShareX25519() throws Exception {
        // A fresh JVM: the JDK reads its named groups once per process, at its first handshake.
        assertThat(run(PrintKeyShares.class, "-XX:TieredStopAtLevel=1")).isEqualTo("29");
        assertThat(run(PrintKeyShares.class, "-Djdk.tls.namedGroups=x25519,secp256r1")).as("an operator's choice wins")
                .isEqualTo("29,23");
    }

    /** The groups of the key shares in a ClientHello made through {@link Tls}, as TLS numbers them (29 = X25519). */
    static final class PrintKeyShares {
        public static void main(String[] args) throws Exception {
            // As in a Manager: the agent clients' transport is loaded, then contexts are made with the JDK's API.
            Class.forName(ClientTransport.class.getName());
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(null, null, null);
            javax.net.ssl.SSLEngine engine = context.createSSLEngine("127.0.0.1", 0);
            engine.setUseClientMode(true);
            java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.wrap(java.nio.ByteBuffer.allocate(0), out);
            out.flip();
            // record header (5), handshake header (4), version (2), random (32), then the variable parts
            out.position(5 + 4 + 2 + 32);
            out.position(out.position() + 1 + (out.get(out.position()) & 0xff)); // session id
            out.position(out.position() + 2 + (out.getShort(out.position()) & 0xffff)); // cipher suites
            out.position(out.position() + 1 + (out.get(out.position()) & 0xff)); // compression methods
            int end = out.position() + 2 + (out.getShort() & 0xffff);
            List<String> groups = new java.util.ArrayList<>();
            while (out.position() < end) {
                int type = out.getShort() & 0xffff;
                int length = out.getShort() & 0xffff;
                int next = out.position() + length;
                if (type == 51) { // key_share
                    int sharesEnd = out.position() + 2 + (out.getShort() & 0xffff);
                    while (out.position() < sharesEnd) {
                        groups.add(Integer.toString(out.getShort() & 0xffff));
                        out.position(out.position() + 2 + (out.getShort(out.position()) & 0xffff));
                    }
                }
                out.position(next);
            }
            System.out.println(String.join(",", groups));
        }
    }

    /** What another JVM, started with {@code flag}, chooses: the flags of the JVM decide. */
    private static String suitesOfAJvmWith(String flag) throws Exception {
        return run(PrintSuites.class, flag);
    }

    private static String run(Class<?> main, String flag) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), flag,
                "-cp", System.getProperty("java.class.path"), main.getName()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    static final class PrintSuites {
        public static void main(String[] args) {
            System.out.println(String.join(",", Tls.CIPHER_SUITES));
        }
    }

    private static String negotiated(SSLContext context, int port, List<String> order) throws Exception {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
            SSLParameters params = socket.getSSLParameters();
            Tls.restrict(params, false);
            params.setCipherSuites(order.toArray(String[]::new));
            socket.setSSLParameters(params);
            socket.setSoTimeout(5000);
            socket.startHandshake();
            return socket.getSession().getCipherSuite();
        }
    }
}
