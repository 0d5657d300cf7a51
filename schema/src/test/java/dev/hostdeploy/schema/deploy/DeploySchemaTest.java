package dev.hostdeploy.schema.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.Port;
import dev.hostdeploy.schema.deploy.DeploySchema.Service;
import dev.hostdeploy.schema.deploy.DeploySchema.SyncRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeploySchemaTest {
    @Test
    void aSyncRequestPrintsItsEnvKeysButNeverTheSecrets() {
        SyncRequest req = new SyncRequest("web", "acme/site", "main", null, Map.of("TOKEN", "hunter2-value"));

        assertThat(req.toString()).contains("TOKEN").doesNotContain("hunter2-value");
        assertThat(new SyncRequest("web", "acme/site", null, null, null).toString()).contains("env=unchanged");
    }

    @Test
    void aBadRequestFailsAsInvalidDataNamingTheField() {
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", "main", "../x", null))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo("composePath");
                });
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", null, null, Map.of("LD_PRELOAD", "/x.so")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.field()).isEqualTo("env.LD_PRELOAD"));
    }

    @Test
    void aDeployResultReadsBackFromTheWireWithItsServicesAndPorts() throws Exception {
        DeployResult sent = new DeployResult("web", "acme/site", null, "0123abc", "compose.yaml", true,
                List.of(new Service("web", "c1", "web-web-1", "running", "healthy", "2026-01-01T00:00:00Z", null,
                        List.of(new Port("127.0.0.1", 49153, 8080, "tcp")))));

        String json = Json.MAPPER.writeValueAsString(sent);
        DeployResult read = Json.MAPPER.readValue(json, DeployResult.class);

        assertThat(read).isEqualTo(sent);
        assertThat(read.services().get(0).up()).isTrue();
        // absent values stay off the wire, and up() is not a field
        assertThat(json).doesNotContain("\"ref\"").doesNotContain("exitCode").doesNotContain("\"up\"");
    }
}
