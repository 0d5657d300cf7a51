package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.net.InetAddress;
import java.util.List;
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
    void withoutC2TheManagerPrefersChaCha20AndWithItAesGcm() {
        assertThat(Tls.cipherSuites(false)).first().isEqualTo(Tls.CHACHA20_POLY1305);
        assertThat(Tls.cipherSuites(true)).first().isEqualTo(Tls.AES_128_GCM);
        assertThat(Tls.cipherSuites(false)).containsExactlyInAnyOrderElementsOf(Tls.cipherSuites(true))
                .hasSize(3);
        // The test JVM runs with C2 and, on x86-64, its AES intrinsics.
        assertThat(Tls.CIPHER_SUITES).isEqualTo(Tls.cipherSuites(Tls.aesAccelerated()));
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
