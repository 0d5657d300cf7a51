package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Version skew: an agent of another protocol version is shown on its host and gets no command. */
@Timeout(90)
class ProtocolVersionTest {
    @TempDir
    Path root;

    @Test
    void anAgentOfANewerProtocolIsShownAsAMismatchOnTheHostAndGetsNoCommand() throws Exception {
        int newer = AgentServer.PROTOCOL_VERSION + 1;
        try (TestManager m = TestManager.start(root);
             TestAgent worker = TestAgent.speakingProtocol(newer, "worker", m.manager.identity().fingerprint());
             TestAgent guardian = TestAgent.start("guardian", m.manager.identity().fingerprint())) {
            var created = m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(),
                    "guardian", guardian.registration()));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String id = created.json().get("id").asText();
            await("both agents connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
                        return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
                    });

            JsonNode host = m.admin("GET", "/hosts/" + id, null).json();
            assertThat(host.at("/worker/protocolMismatch").asBoolean()).isTrue();
            assertThat(host.at("/worker/protocolVersion").asInt()).isEqualTo(newer);
            assertThat(host.at("/worker/lastError").asText())
                    .contains("speaks protocol version " + newer)
                    .contains("this Manager speaks " + AgentServer.PROTOCOL_VERSION)
                    .contains("until the Manager is upgraded");
            assertThat(host.at("/guardian/protocolMismatch").asBoolean()).isFalse();
            assertThat(host.at("/guardian/protocolVersion").asInt()).isEqualTo(AgentServer.PROTOCOL_VERSION);
            assertThat(host.at("/guardian/lastError").isNull()).isTrue();

            int before = worker.totalCalls();
            var call = m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "host.stats"));
            assertThat(call.status()).as(call.body()).isEqualTo(503);
            assertThat(call.json().at("/error/message").asText()).contains("speaks protocol version " + newer);
            assertThat(worker.totalCalls()).as("nothing reached the agent").isEqualTo(before);
        }
    }
}
