package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS 1.3 lets a peer resume an earlier session with a pre-shared key instead of presenting its
 * certificate again, so the trust manager that checks the pinned key is not asked. A pin that changed
 * since (an admin's PATCH of a host's fingerprint, an agent's {@code untrust}) must still be the one
 * the next connection is judged by.
 */
@Timeout(60)
class SessionResumptionTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    @Test
    void aManagerRefusesTheAgentAtAnAddressWhosePinWasChangedToAnotherKey() throws Exception {
        try (AgentFixture agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start()) {
            try (AgentClient pinnedToAgent = agent.connected()) {
                // A round trip, so the agent's session tickets have reached the client.
                assertThat(pinnedToAgent.call("test.echo", Map.of("n", 1)).get(10, TimeUnit.SECONDS).path("n").asInt())
                        .isEqualTo(1);
            }
            // The admin pins another agent's key at the same address.
            assertRefusedWhenPinnedToAnotherKey(agent.uri());
        }
    }

    @Test
    void aManagerResumesAnAgentsSessionOnlyUnderThePinItWasMadeWith() throws Exception {
        try (ResumingAgent agent = new ResumingAgent(ids.get("agent"), ids.get("manager")).begin()) {
            TrustPolicy agentsKey = TrustPolicy.exactly(List.of(ids.get("agent").fingerprint()));
            assertThat(connects(agent, agentsKey)).isTrue();
            int full = agent.fullHandshakes.get();
            assertThat(connects(agent, agentsKey)).isTrue();
            assertThat(agent.fullHandshakes.get()).as("the second connection resumed the first one's session")
                    .isEqualTo(full);

            assertRefusedWhenPinnedToAnotherKey(agent.uri());
        }
    }

    /** A client at {@code uri} pinned to another agent's key is refused, naming the key it was shown. */
    private static void assertRefusedWhenPinnedToAnotherKey(java.net.URI uri) throws Exception {
        AgentClient repinned = AgentClient.builder(uri, ids.get("manager"),
                TrustPolicy.exactly(List.of(ids.get("other-agent").fingerprint())))
                .backoff(new Backoff(Duration.ofMillis(100), Duration.ofMillis(500))).build();
        try (repinned) {
            repinned.start();
            await("the repinned client connected or refused").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> repinned.isConnected() || repinned.lastFailure() != null);
            assertThat(repinned.isConnected()).isFalse();
            assertThat(repinned.refusedFingerprint()).isEqualTo(ids.get("agent").fingerprint());
            assertThat(repinned.lastFailure()).contains("untrusted key");
        }
    }

    private static boolean connects(ResumingAgent agent, TrustPolicy pin) throws InterruptedException {
        try (AgentClient client = AgentClient.builder(agent.uri(), ids.get("manager"), pin).build()) {
            client.start();
            return client.awaitConnected(Duration.ofSeconds(10));
        }
    }

    @Test
    void aManagerStillReconnectsToTheAgentItIsPinnedTo() throws Exception {
        try (AgentFixture agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start()) {
            try (AgentClient first = agent.connected()) {
                assertThat(first.call("test.echo", Map.of("n", 1)).get(10, TimeUnit.SECONDS).path("n").asInt()).isEqualTo(1);
            }
            try (AgentClient again = agent.connected()) {
                assertThat(again.call("test.echo", Map.of("n", 2)).get(10, TimeUnit.SECONDS).path("n").asInt()).isEqualTo(2);
            }
        }
    }

    @Test
    void anAgentRefusesAManagerItStoppedTrustingEvenWhenItOffersToResumeItsSession(@TempDir Path dir) throws Exception {
        TrustList trusted = TrustList.load(dir);
        trusted.trust("manager", ids.get("manager").fingerprint());
        AgentServer server = AgentServer.builder(ids.get("agent"), trusted, new HandlerRegistry()).build();
        server.start();
        try (server) {
            // One client context for both attempts: the second offers the first one's session.
            SSLContext manager = Tls.context(ids.get("manager"),
                    TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())), "agent", fp -> { });
            assertThat(upgrade(manager, server.port())).startsWith("HTTP/1.1 101");
            await("the first connection closed").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !server.hasConnection());

            trusted.untrust("manager");
            assertThat(upgrade(manager, server.port())).isEqualTo("refused");
            assertThat(server.hasConnection()).isFalse();
        }
    }

    /** The status line of a WebSocket upgrade over a fresh TLS connection, or "refused". */
    private static String upgrade(SSLContext context, int port) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setEnabledProtocols(new String[] {Tls.PROTOCOL});
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET " + AgentServer.PATH + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int b = in.read(); b >= 0 && b != '\r'; b = in.read()) {
                line.append((char) b);
            }
            return line.length() == 0 ? "refused" : line.toString();
        } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
            // TLS 1.3 servers judge the client certificate after the client's Finished: the refusal
            // arrives as an alert or a reset on the first read.
            return "refused";
        }
    }
}
