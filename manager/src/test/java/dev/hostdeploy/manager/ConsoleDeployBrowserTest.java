package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.worker.deploy.GitHubFixture;
import dev.hostdeploy.worker.deploy.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * An admin watches a real deploy in the console: a Worker deploying from the loopback git daemon with
 * the real dockerd, a Guardian with nft in a network namespace, and headless Chromium following the SSE
 * stream until the deploy ends.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ConsoleDeployBrowserTest {
    @TempDir
    Path root;
    TestManager m;
    RealHost realHost;
    GitHubFixture github;
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);
    String project;

    @BeforeEach
    void start() throws Exception {
        TestImages.ensureBusybox();
        github = new GitHubFixture(root);
        m = TestManager.start(root.resolve("manager"), c -> c.allowedOrgs(List.of("acme")));
        realHost = RealHost.builder("hdc").deploy(SiteFixture.deployOptions(github)).start(m, root);
        realHost.register(m);
    }

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        if (realHost != null) {
            realHost.close();
        }
        if (project != null) {
            SiteFixture.removeProject(project);
        }
        if (github != null) {
            github.close();
        }
    }

    @Test
    void adminFollowsARunningDeploysLiveLogToItsEnd() throws Exception {
        github.create("acme/live").push("v1", SiteFixture.site("live " + runId, 6));
        project = "live-" + runId;
        var created = m.admin("POST", "/deployments", Map.of("name", project, "repo", "acme/live", "host", "lumi"));
        assertThat(created.status()).as(created.body()).isEqualTo(202);
        String base = "http://127.0.0.1:" + m.manager.port();
        try (Browser b = new Browser(base)) {
            b.signInWithToken(m.adminToken);
            b.open("/#/deployments/" + project);
            b.await(By.id("live-log"));
            // The stream replays the lines so far, follows the build (6 s), and ends with the state event.
            b.awaitTrue("the deploy's end in the live log", d -> "running".equals(
                    d.findElement(By.id("live-state")).getAttribute("data-state")), Duration.ofSeconds(150));
            String log = b.driver.findElement(By.id("live-log")).getText();
            assertThat(log).contains("ports: opened tcp");
            assertThat(b.driver.findElement(By.id("live-state")).getText()).contains("State: running");
            // The history shows the deploy once the page refreshed on the final state.
            b.awaitText(By.cssSelector("main table tbody"), "succeeded");
            assertThat(b.cspViolations()).isEmpty();
        }
    }
}
