package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.manager.signin.GithubOrgCheck;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Browser sessions and sign-in, driven over HTTP as a browser would (cookies by hand, no redirects followed). */
@Timeout(60)
class SignInTest {
    static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path root;
    static GithubStandIn github;
    static TestManager m;

    @BeforeAll
    static void start() throws Exception {
        github = new GithubStandIn("club");
        Path secret = root.resolve("github-secret");
        Files.writeString(secret, GithubStandIn.CLIENT_SECRET + "\n");
        m = TestManager.start(root, c -> c.github(GithubStandIn.CLIENT_ID, secret).githubOrg("club")
                .adminGithubLogins(List.of("Root-Admin")).githubUrls(github.url(), github.apiUrl()));
    }

    @AfterAll
    static void stop() {
        m.close();
        github.close();
    }

    String base() {
        return "http://127.0.0.1:" + m.manager.port();
    }

    HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String cookie(HttpResponse<?> r, String name) {
        return r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(name + "="))
                .map(c -> c.substring(name.length() + 1).split(";", 2)[0]).filter(v -> !v.isEmpty())
                .findFirst().orElse(null);
    }

    /** Runs the whole browser round trip through the stand-in; the callback's response. */
    HttpResponse<String> githubSignIn(GithubStandIn.Account account) throws Exception {
        github.signedInAs(account);
        var start = send(HttpRequest.newBuilder(URI.create(base() + "/auth/github")));
        assertThat(start.statusCode()).isEqualTo(302);
        String state = cookie(start, "hd_oauth_state");
        var authorize = send(HttpRequest.newBuilder(URI.create(start.headers().firstValue("Location").orElseThrow())));
        assertThat(authorize.statusCode()).as(authorize.body()).isEqualTo(302);
        String callback = authorize.headers().firstValue("Location").orElseThrow();
        assertThat(callback).startsWith(base() + "/auth/github/callback?");
        return send(HttpRequest.newBuilder(URI.create(callback)).header("Cookie", "hd_oauth_state=" + state));
    }

    HttpResponse<String> me(String session) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/me")).header("Cookie", "hd_session=" + session));
    }

    @Test
    void activeOrgMemberSignsInWithGithubAsAMemberAndARenameKeepsTheLink() throws Exception {
        var done = githubSignIn(new GithubStandIn.Account(1001, "Alice", "active"));
        assertThat(done.statusCode()).as(done.body()).isEqualTo(302);
        assertThat(done.headers().firstValue("Location")).hasValue("/");
        String session = cookie(done, "hd_session");
        String setCookie = done.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("hd_session=")).findFirst().orElseThrow();
        assertThat(setCookie).containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Lax").doesNotContainIgnoringCase("Secure");
        var me = me(session);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.body()).contains("\"name\":\"alice\"", "\"role\":\"member\"");
        String id = TestManager.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/me"))
                .header("Cookie", "hd_session=" + session)).json().get("id").asText();

        var renamed = githubSignIn(new GithubStandIn.Account(1001, "alice-renamed", "active"));
        var again = TestManager.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/me"))
                .header("Cookie", "hd_session=" + cookie(renamed, "hd_session")));
        assertThat(again.json().get("id").asText()).isEqualTo(id);
        assertThat(again.json().get("name").asText()).isEqualTo("alice");
    }

    @Test
    void pendingMemberAndNonMemberAreRefusedWithAClearPageAndNoAccount() throws Exception {
        var pending = githubSignIn(new GithubStandIn.Account(1002, "bob", "pending"));
        assertThat(pending.statusCode()).isEqualTo(403);
        assertThat(pending.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(pending.body()).contains("Sign-in refused", "membership of club is pending");
        assertThat(cookie(pending, "hd_session")).isNull();

        var outsider = githubSignIn(new GithubStandIn.Account(1003, "carol", null));
        assertThat(outsider.statusCode()).isEqualTo(403);
        assertThat(outsider.body()).contains("carol is not a member of the club organisation");

        var users = m.get("/users", m.adminToken).body();
        assertThat(users).doesNotContain("\"bob\"", "\"carol\"");
    }

    @Test
    void adminLoginIsPinnedToTheGithubIdThatFirstSignsInWithIt() throws Exception {
        var first = githubSignIn(new GithubStandIn.Account(2001, "root-admin", "active"));
        assertThat(me(cookie(first, "hd_session")).body()).contains("\"role\":\"admin\"");
        // The login recycled by another account: a member of its own, never the admin.
        var recycled = githubSignIn(new GithubStandIn.Account(2002, "root-admin", "active"));
        var me = me(cookie(recycled, "hd_session")).body();
        assertThat(me).contains("\"role\":\"member\"", "\"name\":\"root-admin-gh2002\"");
    }

    @Test
    void membersWhoLeftTheGithubOrgOrRevokedTheTokenLoseTheirSessionsAtTheNextCheckRoundWhileOthersStay()
            throws Exception {
        String dora = cookie(githubSignIn(new GithubStandIn.Account(3001, "dora", "active")), "hd_session");
        String eve = cookie(githubSignIn(new GithubStandIn.Account(3002, "eve", "active")), "hd_session");
        String finn = cookie(githubSignIn(new GithubStandIn.Account(3003, "finn", "active")), "hd_session");
        String gil = cookie(githubSignIn(new GithubStandIn.Account(3004, "gil", "active")), "hd_session");
        String admin = cookie(githubSignIn(new GithubStandIn.Account(2001, "root-admin", "active")), "hd_session");
        assertThat(me(admin).body()).contains("\"role\":\"admin\"");
        // The token is kept for the check, sealed: the stored value is not the token GitHub gave.
        org.bson.Document stored = m.manager.store().database().collection("users")
                .find(com.mongodb.client.model.Filters.eq("github.id", 3001L)).first();
        String sealed = stored.get("github", org.bson.Document.class).getString("token");
        assertThat(sealed).isNotBlank().doesNotStartWith("gho_");
        assertThat(m.get("/users", m.adminToken).body()).doesNotContain(sealed);

        github.membershipChanged(3001, null); // left the org
        github.membershipChanged(3002, "pending"); // removed and invited again, not accepted yet
        github.tokensRevoked(3003); // revoked this app's access on GitHub
        github.membershipChanged(2001, null); // an admin named by login is checked the same way
        GithubOrgCheck.Round round;
        try {
            round = m.manager.githubOrgCheck().round();
        } finally {
            github.membershipChanged(2001, "active"); // back, for the other tests that sign in with it
        }

        assertThat(round.left()).containsExactlyInAnyOrder("dora", "eve", "finn", "root-admin");
        assertThat(me(admin).statusCode()).isEqualTo(401);
        assertThat(round.active()).contains("gil");
        assertThat(me(dora).statusCode()).isEqualTo(401);
        assertThat(me(eve).statusCode()).isEqualTo(401);
        assertThat(me(finn).statusCode()).isEqualTo(401);
        assertThat(me(gil).statusCode()).isEqualTo(200);
        String audit = m.get("/audit?actor=github-check", m.adminToken).body();
        assertThat(audit).contains("user.offboard", "user/dora (left GitHub org club: not a member)",
                "user/eve (left GitHub org club: membership pending)", "user/finn (left GitHub org club: GitHub token revoked");
        // The records stay for the admin to see; they are not asked about again until they sign in anew.
        assertThat(m.get("/users", m.adminToken).body()).contains("\"dora\"");
        assertThat(m.manager.githubOrgCheck().round().left()).isEmpty();
        // Back in the org: signing in again works, and the check covers them again.
        github.membershipChanged(3001, "active");
        String back = cookie(githubSignIn(new GithubStandIn.Account(3001, "dora", "active")), "hd_session");
        assertThat(me(back).statusCode()).isEqualTo(200);
        assertThat(m.manager.githubOrgCheck().round().active()).contains("dora");
    }

    @Test
    void githubUnreachableOrFailingDuringTheCheckOffboardsNobody() throws Exception {
        String hal = cookie(githubSignIn(new GithubStandIn.Account(3101, "hal", "active")), "hd_session");
        try {
            for (int outage : new int[] {502, 503, -1}) {
                github.outage(outage);
                var round = m.manager.githubOrgCheck().round();
                assertThat(round.left()).as("outage " + outage).isEmpty();
                assertThat(round.unanswered()).as("outage " + outage).contains("hal");
            }
        } finally {
            github.outage(0);
        }
        assertThat(me(hal).statusCode()).isEqualTo(200);
        assertThat(m.get("/audit?actor=github-check", m.adminToken).body()).doesNotContain("user/hal");
        assertThat(m.manager.githubOrgCheck().round().active()).contains("hal");
    }

    @Test
    void callbackWithoutTheStateCookieOfThisBrowserIsRefused() throws Exception {
        github.signedInAs(new GithubStandIn.Account(1001, "alice", "active"));
        var start = send(HttpRequest.newBuilder(URI.create(base() + "/auth/github")));
        var authorize = send(HttpRequest.newBuilder(URI.create(start.headers().firstValue("Location").orElseThrow())));
        var planted = send(HttpRequest.newBuilder(URI.create(authorize.headers().firstValue("Location").orElseThrow())));
        assertThat(planted.statusCode()).isEqualTo(403);
        assertThat(planted.body()).contains("not started in this browser");
    }

    @Test
    void tokenSignInGivesACookieWhoseChangesNeedTheCsrfTokenAndSignOutEndsIt() throws Exception {
        var signIn = send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/session"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + m.adminToken + "\"}")));
        assertThat(signIn.statusCode()).as(signIn.body()).isEqualTo(201);
        String session = cookie(signIn, "hd_session");
        String csrf = dev.hostdeploy.protocol.Json.MAPPER.readTree(signIn.body()).get("csrfToken").asText();
        assertThat(signIn.body()).doesNotContain(session);

        // A cross-site form post carries the cookie but cannot know the token.
        var forged = send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/users"))
                .header("Cookie", "hd_session=" + session).header("Origin", "https://evil.example")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"forged\"}")));
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.body()).contains("csrf_failed");
        assertThat(m.get("/users", m.adminToken).body()).doesNotContain("forged");

        var real = send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/users"))
                .header("Cookie", "hd_session=" + session).header("X-CSRF-Token", csrf)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"made-in-browser\"}")));
        assertThat(real.statusCode()).as(real.body()).isEqualTo(201);

        var out = send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/session"))
                .header("Cookie", "hd_session=" + session).header("X-CSRF-Token", csrf).DELETE());
        assertThat(out.statusCode()).isEqualTo(204);
        var after = me(session);
        assertThat(after.statusCode()).isEqualTo(401);
        // The API token itself keeps working.
        assertThat(m.get("/me", m.adminToken).status()).isEqualTo(200);
    }

    @Test
    void deletingAUserEndsTheirBrowserSessions() throws Exception {
        String token = m.userToken("leaving", "member");
        var signIn = send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/session"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + token + "\"}")));
        String session = cookie(signIn, "hd_session");
        assertThat(me(session).statusCode()).isEqualTo(200);
        String id = m.get("/me", token).json().get("id").asText();
        assertThat(m.admin("DELETE", "/users/" + id, null).status()).isEqualTo(204);
        assertThat(me(session).statusCode()).isEqualTo(401);
    }

    @Test
    void wrongTokenGetsNoSession() throws Exception {
        var r = send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/session")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"hd_wrong\"}")));
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(cookie(r, "hd_session")).isNull();
    }

    @Test
    void guessingTokensThroughTheSignInIsSlowedDownLikeOnTheHeader(@TempDir Path other) throws Exception {
        // A Manager of its own: the blocked address must not disturb the other tests.
        try (TestManager own = TestManager.start(other)) {
            String url = "http://127.0.0.1:" + own.manager.port() + "/api/v1/session";
            int status = 0;
            for (int i = 0; i < 60 && status != 429; i++) {
                status = send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"hd_guess-" + i + "\"}"))).statusCode();
            }
            assertThat(status).isEqualTo(429);
            // The right token is never refused.
            var real = send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + own.adminToken + "\"}")));
            assertThat(real.statusCode()).isEqualTo(201);
        }
    }

    @Test
    void everyPageAndApiResponseSendsAStrictContentSecurityPolicy() throws Exception {
        for (String path : List.of("/", "/api/v1/health")) {
            var r = send(HttpRequest.newBuilder(URI.create(base() + path)));
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Security-Policy").orElse(""))
                    .contains("script-src 'self'", "frame-ancestors 'none'", "default-src 'self'")
                    .doesNotContain("unsafe-inline", "unsafe-eval");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(r.headers().firstValue("Referrer-Policy")).isPresent();
        }
        assertThat(send(HttpRequest.newBuilder(URI.create(base() + "/"))).body()).contains("<script type=\"module\" src=");
    }

    @Test
    void sessionCookieIsSecureWhenThePublicUrlIsHttps(@TempDir Path other) throws Exception {
        try (TestManager https = TestManager.start(other, c -> c.publicUrl(URI.create("https://console.example")))) {
            var r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + https.manager.port() + "/api/v1/session"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + https.adminToken + "\"}")));
            assertThat(r.headers().allValues("Set-Cookie")).anySatisfy(c ->
                    assertThat(c).startsWith("hd_session=").containsIgnoringCase("Secure").containsIgnoringCase("HttpOnly"));
        }
    }
}
