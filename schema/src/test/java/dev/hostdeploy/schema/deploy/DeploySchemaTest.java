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

    /** Shaped like an OpenSSH private key (the openssh-key-v1 blob header); made up, not a usable key. */
    private static final String KEY = """
            -----BEGIN OPENSSH PRIVATE KEY-----
            b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
            QyNTUxOQAAACBdYI4ywG9L8hQe0cHPXkKm1Pq7x0r4AZm5I3jS3Vu1yQAAAJA9mlFkPZpR
            ZAAAAAtzc2gtZWQyNTUxOQAAACBdYI4ywG9L8hQe0cHPXkKm1Pq7x0r4AZm5I3jS3Vu1yQ
            AAAEA0c3Rfa2V5X29ubHlfZm9yX3Rlc3RzX25vdF9zZWNyZXRfMDAwMDAwMDAwMDAwMF1g
            jjLAb0vyFB7Rwc9eQqbU+rvHSvgBmbkjeNLdW7XJAAAACnRlc3RAaG9zdAECAwQFBgc=
            -----END OPENSSH PRIVATE KEY-----
            """;

    @Test
    void aDeployKeyMustBeAnOpenSshPrivateKeyAndNeverPrints() {
        SyncRequest req = new SyncRequest("web", "acme/site", "main", null, null, null, KEY);

        assertThat(req.toString()).contains("deployKey=given").doesNotContain("OPENSSH").doesNotContain("b3BlbnNzaC1rZXkt");
        assertThat(new DeploySchema.RollbackRequest("web", "abcdef1", KEY).toString()).doesNotContain("b3BlbnNzaC1rZXkt");
        assertThat(new DeploySchema.RepoHeadRequest("acme/site", "main", KEY).toString()).doesNotContain("b3BlbnNzaC1rZXkt");
        for (String bad : List.of("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF1gjjLA test", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                + "aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgYSBrZXk=\n-----END OPENSSH PRIVATE KEY-----", "")) {
            assertThatThrownBy(() -> new SyncRequest("web", "acme/site", "main", null, null, null, bad))
                    .isInstanceOfSatisfying(ProtocolException.class, e -> {
                        assertThat(e.field()).isEqualTo("deployKey");
                        assertThat(e.getMessage()).doesNotContain("aGVsbG8");
                    });
        }
    }

    @Test
    void aBadRequestFailsAsInvalidDataNamingTheField() {
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", "main", "../x", null))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo("composePath");
                });
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", null, null, Map.of("COMPOSE_FILE", "/x.yml")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.field()).isEqualTo("env.COMPOSE_FILE"));
    }

    @Test
    void commonVariablesAreTheUsersBecauseTheyNeverReachTheWorkersOwnProcesses() {
        Map<String, String> env = Map.of("NODE_ENV", "production", "TZ", "Europe/Paris", "LANG", "C.UTF-8",
                "LD_PRELOAD", "/nonexistent.so", "GCONV_PATH", "/tmp", "GLIBC_TUNABLES", "x", "PYTHONPATH", "/x",
                "JAVA_TOOL_OPTIONS", "-Xmx1g", "GIT_DIR", "/x", "LC_CTYPE", "C.UTF-8");

        assertThat(new SyncRequest("web", "acme/site", null, null, env).env()).isEqualTo(env);
    }

    @Test
    void whatComposeReadsForItselfOrTheWorkerSetsForComposeIsStillRefused() {
        for (String key : List.of("COMPOSE_PROJECT_NAME", "DOCKER_HOST", "docker_config", "PATH", "HOME", "LC_ALL",
                "HOSTDEPLOY_BS", "https_proxy")) {
            assertThatThrownBy(() -> new SyncRequest("web", "acme/site", null, null, Map.of(key, "v")))
                    .as(key).isInstanceOfSatisfying(ProtocolException.class, e -> {
                        assertThat(e.field()).isEqualTo("env." + key);
                        assertThat(e.getMessage()).contains("reserved");
                    });
        }
    }

    @Test
    void policyExceptionsReadFromTheWireByRuleName() throws Exception {
        SyncRequest req = Json.MAPPER.readValue("""
                {"name":"web","repo":"acme/site","allow":{"privileged":["web"],"bindMounts":["web","db"]}}""",
                SyncRequest.class);

        assertThat(req.exceptions()).containsEntry(PolicyRule.PRIVILEGED, java.util.Set.of("web"))
                .containsEntry(PolicyRule.BIND_MOUNTS, java.util.Set.of("web", "db")).hasSize(2);
        assertThat(new SyncRequest("web", "acme/site", null, null, null).exceptions()).isEmpty();
    }

    @Test
    void anUnknownPolicyRuleOrABadServiceNameIsRefusedNamingTheField() {
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", null, null, null, Map.of("rootPlease", List.of("web"))))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo("allow.rootPlease");
                    assertThat(e.getMessage()).contains("not a compose policy rule").contains("privileged");
                });
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", null, null, null, Map.of("devices", List.of("a b"))))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.field()).isEqualTo("allow.devices"));
        assertThatThrownBy(() -> new SyncRequest("web", "acme/site", null, null, null, Map.of("devices", List.of())))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.field()).isEqualTo("allow.devices"));
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
