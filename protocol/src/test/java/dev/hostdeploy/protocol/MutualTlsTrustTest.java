package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One test per way a peer is refused; each proves the refused side is never served. */
@Timeout(60)
class MutualTlsTrustTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    AgentFixture agent;

    @BeforeEach
    void start() throws Exception {
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start();
    }

    @AfterEach
    void stop() {
        agent.close();
    }

    private static boolean connects(AgentClient client) throws InterruptedException {
        try (client) {
            client.start();
            return client.awaitConnected(Duration.ofSeconds(3));
        }
    }

    @Test
    void agentRefusesManagerWithUnknownKey() throws Exception {
        AgentClient stranger = agent.client(ids.get("stranger")).build();
        assertThat(connects(stranger)).isFalse();
        assertThat(agent.server.hasConnection()).isFalse();
    }

    @Test
    void agentLogsTheRefusedFingerprintWithTheCommandThatWouldTrustIt() throws Exception {
        // The programs log one line per event to stdout (protocol's logback.xml).
        java.io.PrintStream original = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThat(connects(agent.client(ids.get("intruder")).build())).isFalse();
        } finally {
            System.setOut(original);
        }
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("refused manager with untrusted key " + ids.get("intruder").fingerprint())
                .contains("trust --name NAME --fingerprint " + ids.get("intruder").fingerprint());
    }

    @Test
    void managerRefusesAgentWithUnknownKey() throws Exception {
        AgentClient client = AgentClient.builder(agent.uri(), ids.get("manager"),
                TrustPolicy.exactly(List.of(ids.get("someone-else").fingerprint()))).build();
        try (client) {
            client.start();
            assertThat(client.awaitConnected(Duration.ofSeconds(3))).isFalse();
            assertThat(client.refusedFingerprint()).isEqualTo(ids.get("agent").fingerprint());
            assertThat(client.lastFailure()).contains("untrusted key");
        }
    }

    @Test
    void agentRefusesExpiredCertificateEvenOnATrustedKey() throws Exception {
        Identity expired = ids.expired("old-manager");
        agent.close();
        agent = new AgentFixture(ids.get("agent"), expired).start();
        assertThat(connects(agent.client(expired).build())).isFalse();
        assertThat(agent.server.hasConnection()).isFalse();
    }

    @Test
    void agentRefusesClientWithoutCertificate() throws Exception {
        SSLContext noKey = SSLContext.getInstance("TLSv1.3");
        noKey.init(null, new TrustManager[] {trustAll()}, new SecureRandom());
        assertThatThrownBy(() -> handshake(noKey, "TLSv1.3")).isInstanceOf(Exception.class);
        RawManager raw = new RawManager(agent.port, noKey);
        assertThat(raw.connectBlocking(5, TimeUnit.SECONDS)).isFalse();
        assertThat(agent.server.hasConnection()).isFalse();
    }

    @Test
    void agentRefusesTls12() throws Exception {
        SSLContext tls12 = Tls.context(ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())),
                "agent", fp -> { });
        assertThatThrownBy(() -> handshake(tls12, "TLSv1.2")).isInstanceOf(javax.net.ssl.SSLException.class);
        // The same key over TLS 1.3 is fine, so the refusal above was about the version.
        handshake(tls12, "TLSv1.3");
    }

    private void handshake(SSLContext context, String protocol) throws Exception {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), agent.port)) {
            socket.setEnabledProtocols(new String[] {protocol});
            socket.setSoTimeout(5000);
            socket.startHandshake();
            // TLS 1.3 servers check the client certificate after the client's Finished: read to see the verdict.
            socket.getOutputStream().write("GET /hostdeploy/v1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            socket.getOutputStream().flush();
            int b = socket.getInputStream().read();
            if (b < 0) {
                throw new SSLHandshakeException("closed by the agent");
            }
        }
    }

    private static X509TrustManager trustAll() {
        return new X509TrustManager() {
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
        };
    }
}
