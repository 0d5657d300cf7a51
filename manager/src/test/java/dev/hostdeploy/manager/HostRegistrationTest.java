package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Identity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Registering, correcting and refusing agent registrations, against real agent servers over mutual TLS. */
@Timeout(90)
class HostRegistrationTest {
    @TempDir
    Path root;
    TestManager m;
    TestAgent worker;
    TestAgent guardian;

    @BeforeEach
    void start() throws Exception {
        m = TestManager.start(root);
        guardian = TestAgent.start("guardian", m.manager.identity().fingerprint());
    }

    @AfterEach
    void stop() {
        m.close();
        guardian.close();
        if (worker != null) {
            worker.close();
        }
    }

    String register(String name, Map<String, String> w, Map<String, String> g) {
        var r = m.admin("POST", "/hosts", Map.of("name", name, "worker", w, "guardian", g));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    JsonNode host(String id) {
        return m.admin("GET", "/hosts/" + id, null).json();
    }

    static Map<String, String> agent(String address, String fingerprint) {
        return Map.of("address", address, "fingerprint", fingerprint);
    }

    @Test
    void anAgentRefusingTheManagersKeyShowsTheTrustCommandThatFixesIt() throws Exception {
        worker = TestAgent.start("worker", "sha256:" + "0".repeat(64));
        String id = register("lumi", worker.registration(), guardian.registration());
        await("the refusal reported").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> host(id).at("/worker/lastError").asText().contains("refused"));
        JsonNode w = host(id).get("worker");
        assertThat(w.get("connected").asBoolean()).isFalse();
        assertThat(w.get("lastError").asText())
                .startsWith("the agent refused the Manager's key")
                .endsWith("java -jar hostdeploy-worker.jar trust --dir /etc/hostdeploy/worker --name manager --fingerprint "
                        + m.manager.identity().fingerprint());
        // The other agent of the host is unaffected by the refusal.
        await("the guardian connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> host(id).at("/guardian/connected").asBoolean());
    }

    @Test
    void anAgentWithAnotherKeyPointsToPatchAndPatchingTheFingerprintConnectsIt() throws Exception {
        worker = TestAgent.start("worker", m.manager.identity().fingerprint());
        String stale = Identity.generate("the-old-key").fingerprint();
        String id = register("lumi", agent(worker.address(), stale), guardian.registration());
        await("the wrong key reported").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> !host(id).at("/worker/refusedFingerprint").isNull());
        assertThat(host(id).at("/worker/lastError").asText())
                .contains(worker.identity.fingerprint()).contains("PATCH /api/v1/hosts/" + id)
                .doesNotContain("trust --");

        var patched = m.admin("PATCH", "/hosts/" + id, Map.of("worker", Map.of("fingerprint", worker.identity.fingerprint())));
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(patched.json().at("/worker/fingerprint").asText()).isEqualTo(worker.identity.fingerprint());
        assertThat(patched.json().at("/worker/address").asText()).isEqualTo(worker.address());
        assertThat(patched.json().get("name").asText()).isEqualTo("lumi");
        await("worker connected with its real key").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> host(id).at("/worker/connected").asBoolean());
        assertThat(m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "deploy.list")).status())
                .isEqualTo(200);
        assertThat(RestartAndAuditTest.actions(m.admin("GET", "/audit", null).json())).contains("admin host.update host/lumi ok");
        // Stored, not only live: a restart keeps the new fingerprint.
        m.close();
        m = TestManager.start(root);
        assertThat(m.get("/hosts/" + id, m.adminToken).json().at("/worker/fingerprint").asText())
                .isEqualTo(worker.identity.fingerprint());
    }

    @Test
    void afterTheFingerprintIsPatchedToAnotherKeyTheAgentStillAtThatAddressIsRefused() throws Exception {
        worker = TestAgent.start("worker", m.manager.identity().fingerprint());
        String id = register("lumi", worker.registration(), guardian.registration());
        await("worker connected").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> host(id).at("/worker/connected").asBoolean());
        assertThat(m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "deploy.list")).status())
                .isEqualTo(200);

        // The host was reinstalled with a new key, but the old agent still answers at the address:
        // the next connection must not ride on the old one's TLS session.
        String reinstalled = Identity.generate("the-new-key").fingerprint();
        var patched = m.admin("PATCH", "/hosts/" + id, Map.of("worker", Map.of("fingerprint", reinstalled)));
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        await("the old key refused").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> worker.identity.fingerprint().equals(host(id).at("/worker/refusedFingerprint").asText()));
        JsonNode w = host(id).get("worker");
        assertThat(w.get("connected").asBoolean()).isFalse();
        assertThat(w.get("fingerprint").asText()).isEqualTo(reinstalled);
        assertThat(m.admin("POST", "/hosts/" + id + "/agents/worker/commands", Map.of("command", "deploy.list")).status())
                .isNotEqualTo(200);
    }

    @Test
    void patchRefusesBadInputNamingTheField() {
        String id = register("lumi", agent("127.0.0.1:1", "sha256:" + "a".repeat(64)), guardian.registration());
        var badFp = m.admin("PATCH", "/hosts/" + id, Map.of("worker", Map.of("fingerprint", "sha256:abc")));
        assertThat(badFp.status()).isEqualTo(400);
        assertThat(badFp.json().at("/error/details/field").asText()).isEqualTo("worker.fingerprint");
        var badAddress = m.admin("PATCH", "/hosts/" + id, Map.of("guardian", Map.of("address", "wss://x/; rm")));
        assertThat(badAddress.json().at("/error/details/field").asText()).isEqualTo("guardian.address");
        assertThat(m.admin("PATCH", "/hosts/" + id, Map.of()).status()).isEqualTo(400);
        assertThat(m.admin("PATCH", "/hosts/nope", Map.of("worker", Map.of("address", "127.0.0.1:2"))).status())
                .isEqualTo(404);
        assertThat(host(id).at("/worker/address").asText()).isEqualTo("127.0.0.1:1");
    }

    @Test
    void anAgentAlreadyRegisteredForAnotherHostIsRefusedNamingThatHost() {
        String lumiWorker = "sha256:" + "a".repeat(64);
        register("lumi", agent("127.0.0.1:1", lumiWorker), guardian.registration());

        var sameAddress = m.admin("POST", "/hosts", Map.of("name", "mira",
                "worker", agent("127.0.0.1:1", "sha256:" + "c".repeat(64)),
                "guardian", agent("127.0.0.1:3", "sha256:" + "d".repeat(64))));
        assertThat(sameAddress.status()).isEqualTo(409);
        assertThat(sameAddress.json().at("/error/code").asText()).isEqualTo("conflict");
        assertThat(sameAddress.json().at("/error/message").asText()).contains("127.0.0.1:1").contains("host lumi");

        var sameKey = m.admin("POST", "/hosts", Map.of("name", "mira",
                "worker", agent("127.0.0.1:4", "sha256:" + "c".repeat(64)),
                "guardian", agent("127.0.0.1:3", guardian.identity.fingerprint())));
        assertThat(sameKey.status()).isEqualTo(409);
        assertThat(sameKey.json().at("/error/message").asText()).contains("guardian.fingerprint").contains("host lumi");

        String mira = register("mira", agent("127.0.0.1:4", "sha256:" + "c".repeat(64)),
                agent("127.0.0.1:3", "sha256:" + "d".repeat(64)));
        var patchOntoLumi = m.admin("PATCH", "/hosts/" + mira, Map.of("guardian", Map.of("address", guardian.address())));
        assertThat(patchOntoLumi.status()).isEqualTo(409);
        assertThat(patchOntoLumi.json().at("/error/message").asText()).contains("host lumi");
        // A host may keep (re-submit) its own registration.
        assertThat(m.admin("PATCH", "/hosts/" + mira, Map.of("worker", Map.of("address", "127.0.0.1:4"))).status())
                .isEqualTo(200);
        assertThat(m.admin("GET", "/hosts", null).json()).hasSize(2);
        // Host names are not case-sensitive, so neither is an address (a dot in it is not a wildcard).
        register("nova", agent("localhost:5", "sha256:" + "e".repeat(64)), agent("localhost:6", "sha256:" + "f".repeat(64)));
        var sameAddressOtherCase = m.admin("POST", "/hosts", Map.of("name", "vega",
                "worker", agent("LocalHost:5", "sha256:" + "1".repeat(64)),
                "guardian", agent("127.0.0.2:3", "sha256:" + "2".repeat(64))));
        assertThat(sameAddressOtherCase.status()).isEqualTo(409);
        assertThat(sameAddressOtherCase.json().at("/error/message").asText()).contains("host nova");
        assertThat(m.admin("POST", "/hosts", Map.of("name", "vega",
                "worker", agent("127x0.0.1:4", "sha256:" + "1".repeat(64)),
                "guardian", agent("127.0.0.2:3", "sha256:" + "2".repeat(64)))).status()).isEqualTo(201);
    }
}
