package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(90)
class RestartAndAuditTest {
    @TempDir
    Path root;

    static List<String> actions(JsonNode audit) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : audit) {
            out.add(e.get("actor").asText() + " " + e.get("action").asText() + " " + e.get("target").asText()
                    + " " + e.get("result").asText());
        }
        return out;
    }

    @Test
    void everyMutationIsAuditedWithActorTargetAndResult() throws Exception {
        try (TestManager m = TestManager.start(root);
             TestAgent worker = TestAgent.start("worker", "sha256:" + "0".repeat(64));
             TestAgent guardian = TestAgent.start("guardian", "sha256:" + "0".repeat(64))) {
            Instant start = Instant.now();
            String userId = m.admin("POST", "/users", Map.of("name", "ada")).json().get("id").asText();
            String tokenId = m.admin("POST", "/users/" + userId + "/tokens", Map.of("name", "laptop")).json().get("id").asText();
            assertThat(m.admin("POST", "/users", Map.of("name", "ada")).status()).isEqualTo(409);
            assertThat(m.admin("POST", "/users", Map.of("name", "BAD NAME")).status()).isEqualTo(400);
            m.admin("DELETE", "/tokens/" + tokenId, null);
            String hostId = m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(),
                    "guardian", guardian.registration())).json().get("id").asText();
            m.admin("DELETE", "/hosts/" + hostId, null);
            m.admin("DELETE", "/users/" + userId, null);
            assertThat(m.post("/users", "hd_wrong", Map.of("name", "mallory")).status()).isEqualTo(401);
            String member = m.userToken("bob", "member");
            assertThat(m.delete("/hosts/" + hostId, member).status()).isEqualTo(403);

            JsonNode audit = m.admin("GET", "/audit?since=" + start, null).json();
            List<String> got = actions(audit);
            assertThat(got).containsSubsequence(
                    "bob host.delete /api/v1/hosts/" + hostId + " forbidden",
                    "anonymous auth.refused /api/v1/users unauthorized",
                    "admin user.delete user/ada ok",
                    "admin host.delete host/lumi ok",
                    "admin host.create host/lumi ok",
                    "admin token.revoke token/" + tokenId + " ok",
                    "admin user.create /api/v1/users invalid_data",
                    "admin user.create user/ada conflict",
                    "admin token.create user/ada/token/" + tokenId + " ok",
                    "admin user.create user/ada ok");
            for (JsonNode e : audit) {
                assertThat(e.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
                assertThat(e.get("address").asText()).isEqualTo("127.0.0.1");
            }
            // Reads are not audited.
            assertThat(got).noneMatch(s -> s.contains(" GET "));

            assertThat(actions(m.admin("GET", "/audit?actor=anonymous", null).json()))
                    .containsExactly("anonymous auth.refused /api/v1/users unauthorized");
            assertThat(m.admin("GET", "/audit?limit=2", null).json()).hasSize(2);
            var badSince = m.admin("GET", "/audit?since=yesterday", null);
            assertThat(badSince.status()).isEqualTo(400);
            assertThat(badSince.json().at("/error/details/field").asText()).isEqualTo("since");
            assertThat(m.admin("GET", "/audit?limit=0", null).json().at("/error/details/field").asText()).isEqualTo("limit");
            assertThat(m.admin("GET", "/audit?since=" + Instant.now().plusSeconds(60), null).json()).isEmpty();
        }
    }

    @Test
    void restartKeepsUsersHostsAuditAndTheAdminToken() throws Exception {
        String memberToken;
        String hostId;
        String adminToken;
        String identity;
        try (TestManager m = TestManager.start(root)) {
            adminToken = m.adminToken;
            identity = m.manager.identity().fingerprint();
            memberToken = m.userToken("carol", "member");
            hostId = m.admin("POST", "/hosts", Map.of("name", "lumi",
                    "worker", Map.of("address", "127.0.0.1:1", "fingerprint", "sha256:" + "a".repeat(64)),
                    "guardian", Map.of("address", "127.0.0.1:2", "fingerprint", "sha256:" + "b".repeat(64))))
                    .json().get("id").asText();
        }
        String tokenFile = Files.readString(root.resolve("data/admin-token"));
        try (TestManager m = TestManager.start(root)) {
            assertThat(Files.readString(root.resolve("data/admin-token"))).isEqualTo(tokenFile);
            assertThat(m.manager.identity().fingerprint()).isEqualTo(identity);
            assertThat(m.get("/me", adminToken).status()).isEqualTo(200);
            assertThat(m.get("/me", memberToken).json().get("name").asText()).isEqualTo("carol");
            JsonNode hosts = m.get("/hosts", adminToken).json();
            assertThat(hosts).hasSize(1);
            assertThat(hosts.get(0).get("id").asText()).isEqualTo(hostId);
            assertThat(hosts.get(0).at("/guardian/fingerprint").asText()).isEqualTo("sha256:" + "b".repeat(64));
            assertThat(hosts.get(0).at("/worker/connected").asBoolean()).isFalse();
            assertThat(actions(m.get("/audit", adminToken).json()))
                    .contains("admin host.create host/lumi ok", "admin user.create user/carol ok");
            assertThat(m.get("/users", adminToken).json()).hasSize(2);
        }
    }
}
