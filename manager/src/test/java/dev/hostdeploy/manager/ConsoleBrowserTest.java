package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/** The console in headless Chromium: sign-in through the GitHub stand-in, refusals, sign-out, charts. */
@Timeout(120)
class ConsoleBrowserTest {
    @TempDir
    static Path root;
    static GithubStandIn github;
    static TestManager m;

    @BeforeAll
    static void start() throws Exception {
        github = new GithubStandIn("club");
        Path secret = root.resolve("github-secret");
        Files.writeString(secret, GithubStandIn.CLIENT_SECRET);
        m = TestManager.start(root, c -> c.github(GithubStandIn.CLIENT_ID, secret).githubOrg("club")
                .adminGithubLogins(List.of("octo-admin")).githubUrls(github.url(), github.apiUrl()));
    }

    @AfterAll
    static void stop() {
        m.close();
        github.close();
    }

    static String base() {
        return "http://127.0.0.1:" + m.manager.port();
    }

    @Test
    void activeOrgMemberSignsInWithGithubAndSeesTheirConsoleAtPhoneWidth() {
        github.signedInAs(new GithubStandIn.Account(31, "Alice", "active"));
        try (Browser b = new Browser(base(), 390, 844)) {
            b.open("/");
            b.await(By.id("github-sign-in")).click();
            b.awaitText(By.id("user-name"), "alice (member)");
            assertThat(b.await(By.cssSelector("main h1")).getText()).isEqualTo("My containers");
            assertThat(b.driver.findElements(By.cssSelector("#nav a")).stream().map(WebElement::getText).toList())
                    .contains("My containers", "My SSH keys", "My usage").doesNotContain("Hosts", "Audit log");
            // Every control of the create form has a label.
            for (WebElement control : b.driver.findElements(By.cssSelector("#create-container input, #create-container select, #create-container textarea"))) {
                assertThat(b.driver.findElements(By.cssSelector("label[for='" + control.getAttribute("id") + "']")))
                        .as(control.getAttribute("name")).hasSize(1);
            }
            Long overflow = (Long) b.driver.executeScript(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
            assertThat(overflow).as("no sideways scrolling at phone width").isLessThanOrEqualTo(0L);
            assertThat(b.cookie("hd_session")).isNotNull();
            assertThat(b.cspViolations()).isEmpty();
        }
    }

    @Test
    void pendingMemberAndNonMemberAreShownWhyTheyCannotSignIn() {
        try (Browser b = new Browser(base())) {
            github.signedInAs(new GithubStandIn.Account(32, "bob", "pending"));
            b.open("/");
            b.await(By.id("github-sign-in")).click();
            b.awaitText(By.id("refusal"), "membership of club is pending");
            assertThat(b.driver.findElement(By.tagName("h1")).getText()).isEqualTo("Sign-in refused");
            assertThat(b.cookie("hd_session")).isNull();

            github.signedInAs(new GithubStandIn.Account(33, "carol", null));
            b.open("/");
            b.await(By.id("github-sign-in")).click();
            b.awaitText(By.id("refusal"), "carol is not a member of the club organisation");
            assertThat(b.cookie("hd_session")).isNull();
        }
    }

    @Test
    void wrongTokenShowsTheApiMessageBesideTheSignInButton() {
        try (Browser b = new Browser(base())) {
            b.open("/");
            b.await(By.cssSelector("#token-sign-in input[name=token]")).sendKeys("hd_wrong-token");
            b.driver.findElement(By.cssSelector("#token-sign-in button[type=submit]")).click();
            b.awaitText(By.cssSelector("#token-sign-in .actions .error"), "invalid or revoked token");
        }
    }

    @Test
    void signOutEndsTheSessionSoTheOldCookieGets401() {
        try (Browser b = new Browser(base())) {
            b.signInWithToken(m.adminToken);
            String cookie = b.cookie("hd_session");
            assertThat(me(cookie)).isEqualTo(200);
            b.driver.findElement(By.id("sign-out")).click();
            b.await(By.cssSelector("#token-sign-in"));
            assertThat(me(cookie)).isEqualTo(401);
            b.driver.navigate().refresh();
            b.await(By.cssSelector("#token-sign-in"));
        }
    }

    @Test
    void adminSeesAWeekOfStatsChartsForEveryHost() {
        var history = m.manager.statsHistory();
        Instant now = Instant.now();
        for (String host : List.of("h-one", "h-two")) {
            for (int i = 0; i < 7 * 24 * 6; i++) {
                history.record(host, Date.from(now.minus(Duration.ofMinutes(10L * i))),
                        new HostStats(0, 0, 0, 2, 100, 60 - i % 30, "/", 100, 50, 0, 0, (i % 100) / 100.0));
            }
        }
        try (Browser b = new Browser(base())) {
            b.signInWithToken(m.adminToken);
            b.open("/#/stats");
            // The first drawing (the last hour) is done before the range changes.
            b.await(By.cssSelector("#charts[data-points]"));
            new Select(b.driver.findElement(By.cssSelector("select[name=range]"))).selectByValue("week");
            b.awaitTrue("two charts drawn", d -> d.findElements(By.cssSelector("#charts figure.chart canvas")).size() == 2,
                    Duration.ofSeconds(20));
            b.awaitText(By.id("stats-status"), "2 host(s)");
            assertThat(b.driver.findElements(By.cssSelector("#charts figure.chart figcaption")).stream()
                    .map(WebElement::getText).toList()).anyMatch(t -> t.startsWith("h-one"));
            assertThat(b.cspViolations()).isEmpty();
        }
    }

    @Test
    void crossSitePostWithTheSessionCookieButNoCsrfTokenIsRefused() throws Exception {
        // Another site's page that submits a form to the Manager as soon as it loads.
        var evil = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        String page = "<!doctype html><form id=f method=POST action='" + base() + "/api/v1/users' enctype='text/plain'>"
                + "<input name='{\"name\":\"forged\",\"x\":\"' value='\"}'></form>"
                + "<script>document.getElementById('f').submit()</script>";
        evil.createContext("/", ex -> {
            byte[] bytes = page.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/html");
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        evil.start();
        try (Browser b = new Browser(base())) {
            b.signInWithToken(m.adminToken);
            // Another site (localhost is not 127.0.0.1): SameSite=Lax keeps the cookie off the POST.
            b.driver.get("http://localhost:" + evil.getAddress().getPort() + "/");
            b.awaitText(By.tagName("body"), "unauthorized");
            // Same site, other origin (another port): the cookie goes along, the missing CSRF token refuses it.
            b.driver.get("http://127.0.0.1:" + evil.getAddress().getPort() + "/");
            b.awaitText(By.tagName("body"), "csrf_failed");
            assertThat(m.get("/users", m.adminToken).body()).doesNotContain("forged");
        } finally {
            evil.stop(0);
        }
    }

    @Test
    void adminCreatesAUserWithTheKeyboardAndFindsItInTheAuditLog() {
        try (Browser b = new Browser(base())) {
            b.signInWithToken(m.adminToken);
            b.open("/#/users");
            var name = b.await(By.cssSelector("form[aria-label='Create a user'] input[name=name]"));
            // A bad name: the API's message beside the button, the field marked.
            name.sendKeys("Not Valid!" + org.openqa.selenium.Keys.ENTER);
            b.awaitText(By.cssSelector("form[aria-label='Create a user'] .actions .error"), "name: must be");
            assertThat(name.getAttribute("aria-invalid")).isEqualTo("true");
            name.clear();
            name.sendKeys("made-in-console" + org.openqa.selenium.Keys.ENTER);
            b.await(By.cssSelector("article[data-user='made-in-console']"));

            b.open("/#/hosts");
            b.awaitText(By.cssSelector("main h1"), "Hosts");
            b.open("/#/deployments");
            b.awaitText(By.cssSelector("main h1"), "Deployments");
            b.awaitText(By.id("webhook-url"), base() + "/api/v1/webhooks/github");
            b.open("/#/audit");
            b.awaitText(By.cssSelector("main table"), "user.create");
            var actor = b.await(By.cssSelector("form[aria-label='Audit filters'] input[name=actor]"));
            actor.sendKeys("nobody-at-all" + org.openqa.selenium.Keys.ENTER);
            b.awaitText(By.cssSelector("main table"), "None yet.");
            assertThat(b.driver.findElements(By.cssSelector("main > p.error"))).isEmpty();
            assertThat(b.cspViolations()).isEmpty();
        }
    }

    static int me(String cookie) {
        return TestManager.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/me"))
                .header("Cookie", "hd_session=" + cookie)).status();
    }
}
