package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * A member in the console: signs in through the GitHub stand-in, saves a key, creates a container, reads
 * the SSH command off the page and logs in with {@code ssh}, takes a snapshot and sets the schedule;
 * another member never sees it. Real LXD (image hd-debian with OpenSSH), a real Guardian with nft in a namespace.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ConsoleContainerBrowserTest {
    static final String DEBIAN = "hd-debian";
    static final String BUSYBOX = "hd-busybox";

    @TempDir
    Path root;
    GithubStandIn github;
    TestManager m;
    RealHost realHost;
    final List<String> prefixes = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        github = new GithubStandIn("club");
        Path secret = root.resolve("github-secret");
        Files.writeString(secret, GithubStandIn.CLIENT_SECRET);
        // A port range of its own below the ephemeral ports and apart from ContainersEndToEndTest's (23000-31919),
        // so a run beside other tests never meets theirs.
        int portMin = 20_000 + ThreadLocalRandom.current().nextInt(20) * 100;
        m = TestManager.start(root.resolve("manager"), c -> c.github(GithubStandIn.CLIENT_ID, secret).githubOrg("club")
                .githubUrls(github.url(), github.apiUrl()).sshPortRange(portMin, portMin + 19));
        // CI imports the image (.ci/setup-lxd.sh): without it this test fails rather than passing unseen.
        assertThat(exec(List.of("lxc", "image", "info", DEBIAN)).code()).as("the LXD image " + DEBIAN).isZero();

        realHost = RealHost.builder("hdb").deploy(new DeployOptions())
                .lxc(new LxcOptions(List.of(DEBIAN, BUSYBOX), root.resolve("lxc-backups"), 2, null)).start(m, root);
        realHost.register(m);
    }

    @AfterEach
    void stop() {
        if (m != null) {
            m.close();
        }
        String list = exec(List.of("lxc", "list", "--format", "csv", "-c", "n")).out();
        for (String name : list.lines().map(String::strip).toList()) {
            if (prefixes.stream().anyMatch(name::startsWith)) {
                exec(List.of("lxc", "delete", "--force", name));
            }
        }
        if (realHost != null) {
            realHost.close();
        }
        if (github != null) {
            github.close();
        }
    }

    @Test
    void memberCreatesAContainerInTheConsoleAndLogsInWithTheShownSshCommandWhileOthersNeverSeeIt() throws Exception {
        Path key = root.resolve("id_alice");
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key.toString());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        String pub = Files.readString(root.resolve("id_alice.pub")).strip();
        String base = "http://127.0.0.1:" + m.manager.port();
        try (Browser alice = new Browser(base); Browser bob = new Browser(base)) {
            github.signedInAs(new GithubStandIn.Account(41, "alice", "active"));
            alice.open("/");
            alice.await(By.id("github-sign-in")).click();
            alice.awaitText(By.id("user-name"), "alice (member)");
            String aliceId = meId(alice);
            prefixes.add("m-" + aliceId.substring(0, 8) + "-");

            alice.open("/#/keys");
            alice.await(By.cssSelector("#my-keys textarea[name=keys]")).sendKeys(pub);
            alice.driver.findElement(By.cssSelector("#my-keys button[type=submit]")).click();
            alice.awaitText(By.cssSelector("#my-keys .actions .error"), "Saved");

            alice.open("/#/containers");
            alice.await(By.cssSelector("#create-container input[name=name]")).sendKeys("dev");
            alice.driver.findElement(By.cssSelector("#create-container input[name=image]")).sendKeys(DEBIAN);
            new Select(alice.driver.findElement(By.cssSelector("#create-container select[name=size]"))).selectByValue("small");
            alice.driver.findElement(By.cssSelector("#create-container button[type=submit]")).click();
            String[] shown = new String[1];
            try {
                alice.awaitTrue("the container running with its SSH command", d -> {
                    List<WebElement> cmd = d.findElements(By.cssSelector("article[data-name=dev] .ssh-command"));
                    List<WebElement> state = d.findElements(By.cssSelector("article[data-name=dev] .badge"));
                    if (cmd.isEmpty() || state.isEmpty() || !state.get(0).getText().equalsIgnoreCase("running")) {
                        return false;
                    }
                    shown[0] = cmd.get(0).getText();
                    return true;
                }, Duration.ofSeconds(180));
            } catch (org.openqa.selenium.TimeoutException e) {
                throw new AssertionError("page: " + alice.driver.findElement(By.id("container-list")).getText()
                        + "\nAPI: " + m.admin("GET", "/containers", null).body(), e);
            }
            String command = shown[0];
            Matcher p = Pattern.compile("ssh -p (\\d+) root@(\\S+)").matcher(command);
            assertThat(p.matches()).as(command).isTrue();
            assertThat(alice.driver.findElements(By.cssSelector("article[data-name=dev] button.copy"))).hasSize(1);

            AtomicReference<Result> tried = new AtomicReference<>();
            // sshd inside the fresh container may still be starting
            await("ssh into the container").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        tried.set(exec(List.of("ssh", "-i", key.toString(), "-p", p.group(1), "-o", "BatchMode=yes",
                                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                                "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                                "root@" + p.group(2), "hostname")));
                        assertThat(tried.get().code()).as(tried.get().out()).isZero();
                    });
            Result login = tried.get();
            assertThat(login.out().strip()).startsWith("m-" + aliceId.substring(0, 8) + "-");

            // Snapshots as the API lists them, and LXD's schedule set from the same card.
            alice.driver.findElement(By.cssSelector("article[data-name=dev] details.more summary")).click();
            String snap = "article[data-name=dev] form.take-snapshot";
            alice.await(By.cssSelector(snap + " input[name=name]")).sendKeys("before");
            alice.driver.findElement(By.cssSelector(snap + " button[type=submit]")).click();
            // LXD may take a while on a busy host; an API error would show beside the button.
            alice.awaitTrue("the snapshot listed", d -> !d.findElements(By.cssSelector("article[data-name=dev] "
                    + "tr[data-snapshot=before]")).isEmpty() || !d.findElement(By.cssSelector(snap + " .actions .error"))
                    .getText().isEmpty(), Duration.ofSeconds(120));
            assertThat(alice.driver.findElement(By.cssSelector(snap + " .actions .error")).getText()).isEmpty();
            String schedule = "article[data-name=dev] form.snapshot-schedule";
            alice.driver.findElement(By.cssSelector(schedule + " input[name=schedule]")).sendKeys("@daily");
            alice.driver.findElement(By.cssSelector(schedule + " input[name=expiry]")).sendKeys("7d");
            alice.driver.findElement(By.cssSelector(schedule + " button[type=submit]")).click();
            alice.awaitText(By.cssSelector(schedule + " .actions .error"), "Saved");
            assertThat(exec(List.of("lxc", "config", "get", login.out().strip(), "snapshots.schedule")).out().strip())
                    .isEqualTo("@daily");

            // Bob, another member, sees none of it.
            github.signedInAs(new GithubStandIn.Account(42, "bob", "active"));
            bob.open("/");
            bob.await(By.id("github-sign-in")).click();
            bob.awaitText(By.id("user-name"), "bob (member)");
            bob.await(By.cssSelector("#container-list"));
            bob.awaitText(By.cssSelector("#container-list"), "No containers yet.");
            String containerId = m.admin("GET", "/containers", null).json().get(0).get("id").asText();
            assertThat(TestManager.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/containers/" + containerId))
                    .header("Cookie", "hd_session=" + bob.cookie("hd_session"))).status()).isEqualTo(404);

            // Delete asks first, then the card goes.
            alice.driver.findElement(By.xpath("//article[@data-name='dev']//button[text()='Delete']")).click();
            alice.driver.findElement(By.xpath("//article[@data-name='dev']//button[text()='Yes, delete']")).click();
            try {
                alice.awaitTrue("the container gone from the page",
                        d -> d.findElements(By.cssSelector("article[data-name=dev]")).isEmpty(), Duration.ofSeconds(120));
            } catch (org.openqa.selenium.TimeoutException e) {
                throw new AssertionError("page: " + alice.driver.findElement(By.id("container-list")).getText()
                        + "\nAPI: " + m.admin("GET", "/containers", null).body() + "\noperations: "
                        + m.admin("GET", "/containers/" + containerId + "/operations", null).body() + "\nbrowser log: "
                        + alice.driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll(), e);
            }
            assertThat(alice.cspViolations()).isEmpty();
        }
    }

    private String meId(Browser b) {
        return TestManager.send(HttpRequest.newBuilder(URI.create(b.base + "/api/v1/me"))
                .header("Cookie", "hd_session=" + b.cookie("hd_session"))).json().get("id").asText();
    }

    record Result(int code, String out) {
    }

    private static void run(String... cmd) {
        Result r = exec(List.of(cmd));
        if (r.code() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.out());
        }
    }

    private static Result exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out);
            }
            return new Result(p.exitValue(), out);
        } catch (java.io.IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }
}
