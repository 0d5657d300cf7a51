package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.model.Filters;
import dev.hostdeploy.manager.http.FailedAuthLimiter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class AuthTest {
    @TempDir
    static Path root;
    static TestManager m;

    @BeforeAll
    static void start() throws Exception {
        m = TestManager.start(root);
    }

    @AfterAll
    static void stop() {
        m.close();
    }

    @Test
    void firstStartWritesTheAdminTokenToAFileOnlyTheOwnerCanRead() throws Exception {
        Path file = m.dataDir.resolve("admin-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(m.adminToken).startsWith("hd_").hasSizeGreaterThanOrEqualTo(3 + 43);
        var me = m.get("/me", m.adminToken);
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().get("name").asText()).isEqualTo("admin");
        assertThat(me.json().get("role").asText()).isEqualTo("admin");
    }

    @Test
    void requestWithoutOrWithAWrongTokenGets401InTheErrorShape() {
        var none = m.get("/users", null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.json().at("/error/code").asText()).isEqualTo("unauthorized");
        assertThat(none.json().at("/error/message").asText()).contains("Bearer");
        assertThat(none.json().get("error").has("details")).isTrue();
        assertThat(none.raw().headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        var wrong = m.get("/me", "hd_not-a-real-token");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().at("/error/message").asText()).contains("invalid");
    }

    @Test
    void memberReadsMeButGets403OnAdminRoutes() {
        String token = m.userToken("mira", "member");
        var me = m.get("/me", token);
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().get("name").asText()).isEqualTo("mira");
        assertThat(me.json().get("role").asText()).isEqualTo("member");
        assertThat(me.json().has("id")).isTrue();
        for (String path : new String[] {"/users", "/hosts", "/stats", "/audit", "/metrics"}) {
            var r = m.get(path, token);
            assertThat(r.status()).as(path).isEqualTo(403);
            assertThat(r.json().at("/error/code").asText()).isEqualTo("forbidden");
        }
        assertThat(m.post("/users", token, Map.of("name", "sneaky", "role", "admin")).status()).isEqualTo(403);
    }

    @Test
    void tokenIsShownOnceAndOnlyItsHashIsStored() {
        var u = m.admin("POST", "/users", Map.of("name", "tokenholder"));
        String userId = u.json().get("id").asText();
        var created = m.admin("POST", "/users/" + userId + "/tokens", Map.of("name", "ci"));
        assertThat(created.status()).isEqualTo(201);
        String token = created.json().get("token").asText();
        // 32 random bytes, base64url without padding: 43 characters after the prefix.
        assertThat(token).matches("hd_[A-Za-z0-9_-]{43}");
        var listed = m.admin("GET", "/users/" + userId + "/tokens", null);
        assertThat(listed.body()).doesNotContain(token).contains("\"ci\"");
        Document stored = m.manager.store().database().collection("tokens")
                .find(Filters.eq("_id", created.json().get("id").asText())).first();
        assertThat(stored.toJson()).doesNotContain(token);
        assertThat(stored.getString("hash")).hasSize(64);
    }

    @Test
    void revokedTokenStopsWorkingAtOnce() {
        var u = m.admin("POST", "/users", Map.of("name", "revokee"));
        var t = m.admin("POST", "/users/" + u.json().get("id").asText() + "/tokens", null);
        String token = t.json().get("token").asText();
        assertThat(m.get("/me", token).status()).isEqualTo(200);
        assertThat(m.admin("DELETE", "/tokens/" + t.json().get("id").asText(), null).status()).isEqualTo(204);
        assertThat(m.get("/me", token).status()).isEqualTo(401);
        assertThat(m.admin("DELETE", "/tokens/" + t.json().get("id").asText(), null).status()).isEqualTo(404);
    }

    @Test
    void deletingAUserRevokesItsTokens() {
        var u = m.admin("POST", "/users", Map.of("name", "leaver"));
        String id = u.json().get("id").asText();
        String token = m.admin("POST", "/users/" + id + "/tokens", null).json().get("token").asText();
        assertThat(m.get("/me", token).status()).isEqualTo(200);
        assertThat(m.admin("DELETE", "/users/" + id, null).status()).isEqualTo(204);
        assertThat(m.get("/me", token).status()).isEqualTo(401);
        assertThat(m.admin("GET", "/users/" + id, null).status()).isEqualTo(404);
    }

    @Test
    void theLastAdminCannotBeDeleted() {
        String adminId = m.get("/me", m.adminToken).json().get("id").asText();
        var r = m.admin("DELETE", "/users/" + adminId, null);
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.json().at("/error/message").asText()).contains("last admin");
    }

    @Test
    void badUserInputIsRefusedNamingTheField() {
        var badName = m.admin("POST", "/users", Map.of("name", "Robert'); DROP"));
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.json().at("/error/code").asText()).isEqualTo("invalid_data");
        assertThat(badName.json().at("/error/details/field").asText()).isEqualTo("name");
        var badRole = m.admin("POST", "/users", Map.of("name", "ok", "role", "root"));
        assertThat(badRole.json().at("/error/details/field").asText()).isEqualTo("role");
        var notJson = m.admin("POST", "/users", "{nope");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.json().at("/error/code").asText()).isEqualTo("bad_request");
        var empty = m.admin("POST", "/users", "");
        assertThat(empty.json().at("/error/details/field").asText()).isEqualTo("body");
        m.admin("POST", "/users", Map.of("name", "twin"));
        var twin = m.admin("POST", "/users", Map.of("name", "twin"));
        assertThat(twin.status()).isEqualTo(409);
        assertThat(twin.json().at("/error/code").asText()).isEqualTo("conflict");
    }

    @Test
    void unknownRouteAnswersInTheErrorShape() {
        var r = m.get("/nothing-here", m.adminToken);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().at("/error/code").asText()).isEqualTo("not_found");
    }

    static FailedAuthLimiter strictLimiter() {
        return new FailedAuthLimiter(3, Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMinutes(1));
    }

    @Test
    void repeatedWrongTokensFromOneAddressAreSlowedDown(@TempDir Path other) throws Exception {
        try (TestManager strict = TestManager.start(other, c -> c.limiter(strictLimiter()))) {
            for (int i = 0; i < 4; i++) {
                assertThat(strict.get("/me", "hd_guess" + i).status()).isEqualTo(401);
            }
            // Now blocked: further guesses are refused until the delay passes.
            var blocked = strict.get("/me", "hd_guess4");
            assertThat(blocked.status()).isEqualTo(429);
            assertThat(blocked.json().at("/error/code").asText()).isEqualTo("too_many_requests");
            assertThat(blocked.raw().headers().firstValue("Retry-After")).hasValue("1");
            assertThat(strict.get("/health", null).status()).isEqualTo(200);
            Thread.sleep(1100); // lets the 1 s delay run out: no condition to poll, as each probe would be a guess
            // The next failure doubles the delay.
            assertThat(strict.get("/me", "hd_guess5").status()).isEqualTo(401);
            assertThat(strict.get("/me", "hd_guess6").raw().headers().firstValue("Retry-After")).hasValue("2");
        }
    }

    @Test
    void aValidTokenIsNeverRefusedWhileItsAddressIsSlowedDown(@TempDir Path other) throws Exception {
        try (TestManager strict = TestManager.start(other, c -> c.limiter(strictLimiter()))) {
            for (int i = 0; i < 4; i++) {
                strict.get("/me", "hd_guess" + i);
            }
            assertThat(strict.get("/me", "hd_guess4").status()).isEqualTo(429);
            var admin = strict.get("/me", strict.adminToken);
            assertThat(admin.status()).isEqualTo(200);
            assertThat(admin.json().get("name").asText()).isEqualTo("admin");
            assertThat(strict.get("/users", strict.adminToken).status()).isEqualTo(200);
        }
    }

    @Test
    void requestsWithoutATokenDoNotCountAsFailedGuesses(@TempDir Path other) throws Exception {
        try (TestManager strict = TestManager.start(other, c -> c.limiter(strictLimiter()))) {
            for (int i = 0; i < 10; i++) {
                var r = strict.get("/me", null);
                assertThat(r.status()).isEqualTo(401);
                assertThat(r.json().at("/error/message").asText()).contains("missing");
            }
            // Had they counted, this first wrong token would already be refused with 429.
            assertThat(strict.get("/me", "hd_guess").status()).isEqualTo(401);
        }
    }

    @Test
    void bootstrapTokenFromTheEnvironmentIsUsedAndNoFileIsWritten(@TempDir Path other) throws Exception {
        String token = "operator-chosen-bootstrap-token-0123456789";
        try (TestManager fromEnv = TestManager.start(other, c -> c.bootstrapToken(token))) {
            assertThat(fromEnv.get("/me", token).json().get("name").asText()).isEqualTo("admin");
            assertThat(fromEnv.dataDir.resolve("admin-token")).doesNotExist();
        }
    }
}
