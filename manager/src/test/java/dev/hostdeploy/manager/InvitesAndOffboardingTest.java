package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import dev.hostdeploy.manager.http.FailedAuthLimiter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(90)
class InvitesAndOffboardingTest {
    @TempDir
    static Path root;
    static TestManager m;
    /** User ids the recording offboarding step was called with. */
    static final List<String> offboarded = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        m = TestManager.start(root);
        m.manager.users().onMemberRemoved("recorder", offboarded::add);
        m.manager.users().onMemberRemoved("broken", id -> {
            throw new IllegalStateException("agent unreachable");
        });
    }

    @AfterAll
    static void stop() {
        m.close();
    }

    private static String invite(String role) {
        var r = m.admin("POST", "/invites", Map.of("role", role));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("code").asText();
    }

    private static TestManager.Response accept(TestManager on, String code, String name) {
        return on.post("/invites/" + code + "/accept", null, Map.of("name", name));
    }

    private static List<String> userNames() {
        List<String> names = new ArrayList<>();
        m.admin("GET", "/users", null).json().forEach(u -> names.add(u.get("name").asText()));
        return names;
    }

    private static List<String> audit(Instant since) {
        m.manager.store().audit().flushRefused();
        return RestartAndAuditTest.actions(m.admin("GET", "/audit?limit=1000&since=" + since, null).json());
    }

    @Test
    void inviteCodeCreatesExactlyOneMember() throws Exception {
        Instant start = Instant.now();
        var created = m.admin("POST", "/invites", "{}");
        assertThat(created.status()).isEqualTo(201);
        String code = created.json().get("code").asText();
        String inviteId = created.json().get("id").asText();
        assertThat(code).startsWith("hdi_").hasSizeGreaterThanOrEqualTo(4 + 43);
        assertThat(created.json().get("role").asText()).isEqualTo("member");
        Instant expires = Instant.parse(created.json().get("expiresAt").asText());
        assertThat(Duration.between(Instant.now(), expires)).isBetween(Duration.ofDays(7).minusMinutes(1), Duration.ofDays(7));

        // Only the code's SHA-256 is stored.
        Document stored = m.manager.store().database().collection("invites").find(Filters.eq("_id", inviteId)).first();
        assertThat(stored.toJson()).doesNotContain(code);
        assertThat(stored.getString("hash")).isEqualTo(HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(code.getBytes(StandardCharsets.UTF_8))));

        var accepted = accept(m, code, "ivy");
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(201);
        assertThat(accepted.json().at("/user/name").asText()).isEqualTo("ivy");
        assertThat(accepted.json().at("/user/role").asText()).isEqualTo("member");
        String token = accepted.json().at("/token/token").asText();
        var me = m.get("/me", token);
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().get("name").asText()).isEqualTo("ivy");
        assertThat(userNames()).containsOnlyOnce("ivy");

        JsonNode listed = null;
        for (JsonNode i : m.admin("GET", "/invites", null).json()) {
            if (i.get("id").asText().equals(inviteId)) {
                listed = i;
            }
            assertThat(i.has("code")).isFalse();
            assertThat(i.toString()).doesNotContain(code);
        }
        assertThat(listed.get("usedBy").asText()).isEqualTo("ivy");
        assertThat(listed.get("userId").asText()).isEqualTo(accepted.json().at("/user/id").asText());
        assertThat(listed.get("createdBy").asText()).isEqualTo("admin");
        assertThat(listed.has("usedAt")).isTrue();

        assertThat(audit(start)).contains("admin invite.create invite/" + inviteId + " (member) ok",
                "anonymous invite.accept user/ivy (invite/" + inviteId + ") ok");
    }

    @Test
    void anAdminInvitationMakesAnAdmin() {
        var accepted = accept(m, invite("admin"), "ada-admin");
        assertThat(accepted.status()).isEqualTo(201);
        assertThat(m.get("/users", accepted.json().at("/token/token").asText()).status()).isEqualTo(200);
    }

    @Test
    void usedExpiredRevokedAndUnknownCodesAre404AndCreateNothing() {
        String used = invite("member");
        assertThat(accept(m, used, "first-user").status()).isEqualTo(201);
        String expired = invite("member");
        m.manager.store().database().collection("invites").updateOne(Filters.eq("hash", sha256(expired)),
                Updates.set("expiresAt", Date.from(Instant.now().minusSeconds(1))));
        var revokable = m.admin("POST", "/invites", Map.of("expiresIn", 3600));
        String revoked = revokable.json().get("code").asText();
        assertThat(m.admin("DELETE", "/invites/" + revokable.json().get("id").asText(), null).status()).isEqualTo(204);
        List<String> before = userNames();

        for (String code : List.of(used, expired, revoked, "hdi_" + "A".repeat(43), "nonsense", "x".repeat(500))) {
            var r = accept(m, code, "never-made");
            assertThat(r.status()).as(code).isEqualTo(404);
            assertThat(r.json().at("/error/code").asText()).isEqualTo("not_found");
        }
        assertThat(userNames()).isEqualTo(before).doesNotContain("never-made");
        JsonNode listedRevoked = null;
        for (JsonNode i : m.admin("GET", "/invites", null).json()) {
            if (i.get("id").asText().equals(revokable.json().get("id").asText())) {
                listedRevoked = i;
            }
        }
        assertThat(listedRevoked.has("revokedAt")).isTrue();
        assertThat(m.admin("DELETE", "/invites/nope", null).status()).isEqualTo(404);
    }

    @Test
    void aTakenNameIs409AndLeavesTheInvitationUsable() {
        String code = invite("member");
        m.admin("POST", "/users", Map.of("name", "taken"));
        var clash = accept(m, code, "taken");
        assertThat(clash.status()).isEqualTo(409);
        var bad = accept(m, code, "Not A Name");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().at("/error/details/field").asText()).isEqualTo("name");
        assertThat(accept(m, code, "taken2").status()).isEqualTo(201);
        // A used invitation cannot be revoked: its user is deleted through /users.
        String id = null;
        for (JsonNode i : m.admin("GET", "/invites", null).json()) {
            if ("taken2".equals(i.path("usedBy").asText())) {
                id = i.get("id").asText();
            }
        }
        assertThat(m.admin("DELETE", "/invites/" + id, null).status()).isEqualTo(409);
    }

    @Test
    void twoConcurrentAcceptsOfOneCodeCreateOneUser() throws Exception {
        for (int round = 0; round < 5; round++) {
            String code = invite("member");
            int racers = 6;
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(racers);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int i = 0; i < racers; i++) {
                    String name = "racer-" + round + "-" + i;
                    results.add(pool.submit(() -> {
                        go.await();
                        return accept(m, code, name).status();
                    }));
                }
                go.countDown();
                List<Integer> statuses = new ArrayList<>();
                for (Future<Integer> f : results) {
                    statuses.add(f.get());
                }
                assertThat(statuses).containsOnlyOnce(201).containsOnly(201, 404);
            } finally {
                pool.shutdownNow();
            }
            String prefix = "racer-" + round + "-";
            assertThat(userNames().stream().filter(n -> n.startsWith(prefix))).hasSize(1);
        }
    }

    @Test
    void memberCannotCreateListOrRevokeInvites() {
        String member = m.userToken("plain-member", "member");
        assertThat(m.post("/invites", member, Map.of("role", "admin")).status()).isEqualTo(403);
        assertThat(m.get("/invites", member).status()).isEqualTo(403);
        assertThat(m.delete("/invites/anything", member).status()).isEqualTo(403);
        assertThat(m.post("/invites", null, Map.of()).status()).isEqualTo(401);
    }

    @Test
    void badInvitationRequestsNameTheField() {
        var role = m.admin("POST", "/invites", Map.of("role", "root"));
        assertThat(role.status()).isEqualTo(400);
        assertThat(role.json().at("/error/details/field").asText()).isEqualTo("role");
        for (long expiresIn : new long[] {0, 59, 90L * 86400 + 1}) {
            var r = m.admin("POST", "/invites", Map.of("expiresIn", expiresIn));
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.json().at("/error/details/field").asText()).isEqualTo("expiresIn");
        }
    }

    @Test
    void deletedMembersTokenGets401AndOffboardingRuns() {
        Instant start = Instant.now();
        var accepted = accept(m, invite("member"), "leaver");
        String id = accepted.json().at("/user/id").asText();
        String first = accepted.json().at("/token/token").asText();
        String second = m.admin("POST", "/users/" + id + "/tokens", Map.of("name", "laptop")).json().get("token").asText();
        assertThat(m.get("/me", first).status()).isEqualTo(200);
        assertThat(m.get("/me", second).status()).isEqualTo(200);

        assertThat(m.admin("DELETE", "/users/" + id, null).status()).isEqualTo(204);

        assertThat(m.get("/me", first).status()).isEqualTo(401);
        assertThat(m.get("/me", second).status()).isEqualTo(401);
        assertThat(offboarded).contains(id);
        // The failing step is reported, not rolled back: the user stays deleted.
        assertThat(m.admin("GET", "/users/" + id, null).status()).isEqualTo(404);
        assertThat(audit(start)).containsSubsequence(
                "admin user.delete user/leaver ok",
                // The Manager's own steps (sessions, containers) run first, then the ones this test adds.
                "admin user.offboard user/leaver (deleted) partial: 2 tokens revoked; offboarded by sessions, containers, "
                        + "recorder; failed: broken (agent unreachable)");
    }

    @Test
    void memberWhoLeftTheOrgLosesTokensAndRunsOffboardingButKeepsTheRecord() {
        Instant start = Instant.now();
        String token = m.userToken("org-leaver", "member");
        String id = m.get("/me", token).json().get("id").asText();

        var result = m.manager.users().memberLeft(id, "left the GitHub organisation", "github");

        assertThat(result.tokensRevoked()).isEqualTo(1);
        assertThat(result.done()).containsExactly("sessions", "containers", "recorder");
        assertThat(result.failed()).hasSize(1);
        assertThat(m.get("/me", token).status()).isEqualTo(401);
        assertThat(offboarded).contains(id);
        assertThat(m.admin("GET", "/users/" + id, null).status()).isEqualTo(200);
        assertThat(audit(start)).anyMatch(s -> s.startsWith(
                "github user.offboard user/org-leaver (left the GitHub organisation) partial: 1 token revoked"));
    }

    @Test
    void repeatedWrongCodesAreSlowedDownLikeWrongTokens(@TempDir Path other) throws Exception {
        try (TestManager strict = TestManager.start(other, c -> c.limiter(
                new FailedAuthLimiter(2, Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5))))) {
            String code = strict.admin("POST", "/invites", "{}").json().get("code").asText();
            assertThat(accept(strict, "hdi_wrong1", "guesser").status()).isEqualTo(404);
            assertThat(accept(strict, "hdi_wrong2", "guesser").status()).isEqualTo(404);
            assertThat(accept(strict, "hdi_wrong3", "guesser").status()).isEqualTo(404);
            var blocked = accept(strict, code, "guesser");
            assertThat(blocked.status()).isEqualTo(429);
            assertThat(blocked.raw().headers().firstValue("Retry-After")).isPresent();
            // Nothing was created while blocked, and the code is still good for later.
            assertThat(strict.admin("GET", "/users", null).json().toString()).doesNotContain("guesser");
            strict.manager.store().audit().flushRefused();
            JsonNode refused = strict.admin("GET", "/audit?actor=anonymous", null).json();
            long guesses = 0;
            for (JsonNode e : refused) {
                if (e.get("result").asText().equals("invite_not_found")) {
                    assertThat(e.get("target").asText()).isEqualTo("/api/v1/invites/{code}/accept");
                    guesses += e.get("count").asLong();
                }
            }
            assertThat(guesses).isEqualTo(3);
            // The blocked attempt carried a good code: the audit log has the path template, never the code.
            assertThat(refused.toString()).doesNotContain(code).contains("too_many_requests");
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
