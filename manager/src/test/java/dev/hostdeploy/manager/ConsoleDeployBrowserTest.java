package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.deploy.GitHubFixture;
import dev.hostdeploy.worker.deploy.TestImages;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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
    String ns;
    GuardianAgent guardian;
    DeployModule deploy;
    AgentServer worker;
    GitHubFixture github;
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);
    String project;

    @BeforeEach
    void start() throws Exception {
        TestImages.ensureBusybox();
        github = new GitHubFixture(root);
        m = TestManager.start(root.resolve("manager"), c -> c.allowedOrgs(List.of("acme")));
        TrustPolicy manager = TrustPolicy.exactly(List.of(m.manager.identity().fingerprint()));
        ns = "hdc" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        run("ip", "netns", "add", ns);
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        Identity guardianKey = Identity.generate("guardian");
        guardian = GuardianAgent.builder(guardianKey, manager, root.resolve("guardian-state"))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft"))
                .build();
        guardian.start();
        HandlerRegistry registry = new HandlerRegistry();
        deploy = DeployModule.create(new DeployOptions().deployRoot(Files.createDirectories(root.resolve("deploy")))
                .gitBaseUrl(github.baseUrl()).allowedOrgs(List.of("acme")).healthTimeout(Duration.ofSeconds(40)));
        deploy.register(registry);
        Identity workerKey = Identity.generate("worker");
        worker = AgentServer.builder(workerKey, manager, registry)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version(Cli.version()).build();
        worker.start();
        var r = m.admin("POST", "/hosts", Map.of("name", "lumi",
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", workerKey.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardian.port(), "fingerprint", guardianKey.fingerprint())));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String id = r.json().get("id").asText();
        AgentRegistryTest.await("both agents connected", () -> {
            JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
        });
    }

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        if (worker != null) {
            worker.close();
        }
        if (deploy != null) {
            deploy.close();
        }
        if (guardian != null) {
            guardian.close();
        }
        if (project != null) {
            SiteFixture.removeProject(project);
        }
        if (github != null) {
            github.close();
        }
        if (ns != null) {
            try {
                run("ip", "netns", "del", ns);
            } catch (RuntimeException e) {
                // cleanup
            }
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

    private static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
