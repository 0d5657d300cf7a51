package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.RecordingContext;
import static dev.hostdeploy.worker.deploy.Harness.data;
import static dev.hostdeploy.worker.deploy.Harness.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The deploy pipeline against the real dockerd and real git, through the command handlers. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DockerDeployTest extends HarnessTest {
    @Test
    void firstDeployServesHttpOnItsPublishedPort() throws Exception {
        var repo = h.siteRepo("first", "hello v1");
        String name = h.name("first");
        RecordingContext ctx = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/first"));

        JsonNode reply = h.call(ctx);

        String commit = GitHubFixture.git(repo.tree, "rev-parse", "HEAD").trim();
        assertThat(reply.get("commit").asText()).isEqualTo(commit);
        assertThat(reply.get("changed").asBoolean()).isTrue();
        JsonNode web = reply.get("services").get(0);
        assertThat(web.get("service").asText()).isEqualTo("web");
        assertThat(web.get("state").asText()).isEqualTo("running");
        assertThat(web.get("health").asText()).isEqualTo("healthy");
        assertThat(web.get("containerId").asText()).hasSize(64);
        assertThat(web.get("ports").get(0).get("hostIp").asText()).isEqualTo("127.0.0.1");
        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 hello v1");
        // git and compose output streamed as progress frames
        assertThat(ctx.progress).anySatisfy(p -> assertThat(p.get("stage").asText()).isEqualTo("git"));
        assertThat(ctx.progress).anySatisfy(p -> assertThat(p.get("stage").asText()).isEqualTo("compose"));
        assertThat(Harness.dockerPs(name)).startsWith(web.get("containerId").asText().substring(0, 12));
    }

    @Test
    void pushedCommitRedeploysNewContentWhileTheNamedVolumeKeepsItsData() throws Exception {
        var repo = h.siteRepo("redeploy", "release one");
        String name = h.name("redeploy");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/redeploy", "ref", "main"));
        String second = repo.push("release two", Harness.siteFiles("release two"));

        JsonNode reply = h.call("deploy.sync", data("name", name, "repo", "acme/redeploy", "ref", "main"));

        assertThat(reply.get("changed").asBoolean()).isTrue();
        assertThat(reply.get("commit").asText()).isEqualTo(second);
        assertThat(reply.at("/services/0/containerId").asText()).isNotEqualTo(first.at("/services/0/containerId").asText());
        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 release two");
        // each container start appended its index.html to /data/history on the named volume
        assertThat(h.get(port(reply), "/history")).isEqualTo("200 release one\nrelease two");
    }

    @Test
    void redeployOfNewCommitServesTheNewFilesEvenWhenTheComposeFileDidNotChange() throws Exception {
        // The service copies its page from the checkout when it starts, so only a new container shows a new
        // commit: compose alone sees the same file and image and would leave the old container running.
        String compose = """
                version: "2.4"
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    stop_signal: SIGKILL
                    ports:
                      - "127.0.0.1::8080"
                    volumes:
                      - ./site:/src:ro
                    command: ["sh", "-c", "cp /src/index.html /www/index.html && exec httpd -f -p 8080 -h /www"]
                    healthcheck:
                      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]
                      interval: 1s
                      timeout: 2s
                      retries: 20
                """;
        var repo = h.github.create("acme/copied");
        repo.push("one", Map.of("docker-compose.yml", compose, "site/index.html", "copied one\n"));
        String name = h.name("copied");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/copied"));
        assertThat(h.get(port(first), "/index.html")).isEqualTo("200 copied one");
        String second = repo.push("two", Map.of("site/index.html", "copied two\n"));

        JsonNode reply = h.call("deploy.sync", data("name", name, "repo", "acme/copied"));

        assertThat(reply.get("changed").asBoolean()).isTrue();
        assertThat(reply.get("commit").asText()).isEqualTo(second);
        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 copied two");
        assertThat(reply.at("/services/0/containerId").asText()).isNotEqualTo(first.at("/services/0/containerId").asText());
    }

    @Test
    void unchangedSyncDoesNotRestartTheContainer() throws Exception {
        h.siteRepo("unchanged", "same");
        String name = h.name("unchanged");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/unchanged"));
        int before = h.processes.size();

        JsonNode again = h.call("deploy.sync", data("name", name, "repo", "acme/unchanged"));

        assertThat(again.get("changed").asBoolean()).isFalse();
        assertThat(again.get("commit").asText()).isEqualTo(first.get("commit").asText());
        assertThat(again.at("/services/0/containerId").asText()).isEqualTo(first.at("/services/0/containerId").asText());
        assertThat(again.at("/services/0/startedAt").asText()).isEqualTo(first.at("/services/0/startedAt").asText());
        assertThat(h.processesSince(before)).noneMatch(Harness::isCompose)
                .allSatisfy(cmd -> assertThat(cmd).contains("ls-remote"));
        assertThat(h.get(port(again), "/history")).isEqualTo("200 same");
    }

    @Test
    void rollbackRedeploysAnEarlierCommit() throws Exception {
        var repo = h.siteRepo("rollback", "good");
        String name = h.name("rollback");
        String good = h.call("deploy.sync", data("name", name, "repo", "acme/rollback")).get("commit").asText();
        repo.push("bad", Harness.siteFiles("bad"));
        assertThat(h.get(port(h.call("deploy.sync", data("name", name, "repo", "acme/rollback"))), "/index.html"))
                .isEqualTo("200 bad");

        JsonNode reply = h.call("deploy.rollback", data("name", name, "commit", good.substring(0, 10)));

        assertThat(reply.get("commit").asText()).isEqualTo(good);
        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 good");
        JsonNode status = h.call("deploy.status", data("name", name));
        assertThat(status.get("commit").asText()).isEqualTo(good);
        assertThat(status.get("history")).hasSize(2);
    }

    @Test
    void brokenComposeFileFailsCleanlyAndLeavesThePreviousContainersRunning() throws Exception {
        var repo = h.siteRepo("broken", "still here");
        String name = h.name("broken");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/broken"));
        repo.push("break it", Map.of("docker-compose.yml", "version: \"2.4\"\nservices:\n  web:\n    image: [unclosed\n"));

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/broken")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
                    // compose config (run for the compose policy before up) is the first to read the file
                    assertThat(e.getMessage()).contains("compose config of " + name + " failed").contains("last lines:")
                            .containsIgnoringCase("yaml");
                });

        assertThat(h.get(port(first), "/index.html")).isEqualTo("200 still here");
        JsonNode status = h.call("deploy.status", data("name", name));
        assertThat(status.get("commit").asText()).isEqualTo(first.get("commit").asText());
        assertThat(status.get("lastError").asText()).contains("compose config");
        assertThat(status.at("/services/0/containerId").asText()).isEqualTo(first.at("/services/0/containerId").asText());
        assertThat(status.at("/services/0/state").asText()).isEqualTo("running");
        // the checkout went back to the commit that is running
        assertThat(GitHubFixture.git(h.options.deployRoot().resolve(name), "rev-parse", "HEAD").trim())
                .isEqualTo(first.get("commit").asText());
    }

    @Test
    void aServiceThatCrashesFailsTheDeployWithItsLastLogLines() throws Exception {
        var repo = h.github.create("acme/crash");
        repo.push("crash", Map.of("docker-compose.yml", """
                version: "2.4"
                services:
                  job:
                    image: hostdeploy-test/busybox:1
                    command: ["sh", "-c", "echo boom-marker; exit 3"]
                """));
        String name = h.name("crash");

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/crash")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
                    assertThat(e.getMessage()).contains("service job of " + name + " is exited with code 3")
                            .contains("boom-marker");
                });
        JsonNode status = h.call("deploy.status", data("name", name));
        assertThat(status.get("status").asText()).isEqualTo("failed");
        assertThat(status.get("lastError").asText()).contains("exited with code 3");
    }

    @Test
    void twoSyncsOfOneDeploymentAtOnceAreSerialized() throws Exception {
        h.siteRepo("twice", "once");
        String name = h.name("twice");
        RecordingContext a = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/twice"));
        RecordingContext b = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/twice"));

        var fa = CompletableFuture.supplyAsync(() -> call(a));
        var fb = CompletableFuture.supplyAsync(() -> call(b));
        JsonNode ra = fa.get(2, TimeUnit.MINUTES);
        JsonNode rb = fb.get(2, TimeUnit.MINUTES);

        // exactly one ran compose; the other waited for it and then found nothing to do
        assertThat(List.of(ra.get("changed").asBoolean(), rb.get("changed").asBoolean())).containsExactlyInAnyOrder(true, false);
        assertThat(ra.at("/services/0/containerId").asText()).isEqualTo(rb.at("/services/0/containerId").asText());
        RecordingContext waited = ra.get("changed").asBoolean() ? b : a;
        assertThat(waited.progressText()).contains("waiting for another operation on " + name);
        // one compose config (the compose policy) and one compose up
        assertThat(h.processes.stream().filter(Harness::isCompose).filter(c -> c.contains(name))
                .filter(c -> c.contains("up")).count()).isEqualTo(1);
    }

    @Test
    void anOperationThatWaitedLongerThanLockWaitGetsBusy() throws Exception {
        h.siteRepo("busy", "busy");
        String name = h.name("busy");
        DeployOptions impatient = new DeployOptions().deployRoot(dir.resolve("impatient"))
                .gitBaseUrl(h.github.baseUrl()).allowedOrgs(List.of(Harness.ORG)).lockWait(Duration.ofMillis(300));
        try (DeployModule module = DeployModule.create(impatient)) {
            RecordingContext first = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/busy"));
            var running = CompletableFuture.supplyAsync(() -> {
                try {
                    return module.handlers().get("deploy.sync").handle(first);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await("the first deploy under way").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> !first.progress.isEmpty());

            assertThatThrownBy(() -> module.handlers().get("deploy.stop").handle(new RecordingContext("deploy.stop",
                    data("name", name))))
                    .isInstanceOfSatisfying(ProtocolException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
                        assertThat(e.code().retryable()).isTrue();
                    });
            running.get(2, TimeUnit.MINUTES);
            module.handlers().get("deploy.remove").handle(new RecordingContext("deploy.remove",
                    data("name", name, "removeVolumes", true)));
        }
    }

    @Test
    void removeDeletesContainersAndCheckoutButKeepsNamedVolumesUnlessAsked() throws Exception {
        h.siteRepo("remove", "first life");
        String name = h.name("remove");
        h.call("deploy.sync", data("name", name, "repo", "acme/remove"));

        JsonNode removed = h.call("deploy.remove", data("name", name));

        assertThat(removed.get("volumesKept").toString()).contains(name + "_data");
        assertThat(Harness.dockerPs(name)).isEmpty();
        assertThat(h.options.deployRoot().resolve(name)).doesNotExist();
        assertThat(h.call("deploy.list", null).get("deployments").toString()).doesNotContain(name);
        assertThatThrownBy(() -> h.call("deploy.status", data("name", name)))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThat(Harness.volumeExists(name + "_data")).isTrue();

        JsonNode again = h.call("deploy.sync", data("name", name, "repo", "acme/remove"));
        assertThat(h.get(port(again), "/history")).isEqualTo("200 first life\nfirst life");

        h.call("deploy.remove", data("name", name, "removeVolumes", true));
        assertThat(Harness.volumeExists(name + "_data")).isFalse();
        assertThat(Harness.dockerPs(name)).isEmpty();
    }

    @Test
    void secretsReachTheContainerButNeverProgressRepliesOrLogs() throws Exception {
        h.siteRepo("secret", "s");
        String name = h.name("secret");
        String secret = "hunter2-" + h.runId;
        RecordingContext ctx = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/secret",
                "env", Map.of("GREETING", secret)));

        JsonNode reply = h.call(ctx);

        assertThat(h.get(port(reply), "/greeting.txt")).isEqualTo("200 " + secret);
        assertThat(reply.toString()).doesNotContain(secret);
        assertThat(ctx.progressText()).doesNotContain(secret);
        Path envFile = h.options.deployRoot().resolve(".secrets/" + name + ".env");
        assertThat(Files.getPosixFilePermissions(envFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(envFile)).contains(secret);
        try (var files = Files.walk(h.options.deployRoot().resolve(name))) {
            assertThat(files.filter(Files::isRegularFile).noneMatch(f -> read(f).contains(secret))).isTrue();
        }
        JsonNode logs = h.call("deploy.logs", data("name", name, "service", "web", "tail", 50));
        assertThat(logs.toString()).contains("greeting is [redacted]").doesNotContain(secret);
        // an unchanged sync without env keeps the secrets
        JsonNode again = h.call("deploy.sync", data("name", name, "repo", "acme/secret"));
        assertThat(again.get("changed").asBoolean()).isFalse();
    }

    @Test
    void stopStartStatusListAndLogsReflectTheContainers() throws Exception {
        h.siteRepo("lifecycle", "alive");
        String name = h.name("lifecycle");
        JsonNode deployed = h.call("deploy.sync", data("name", name, "repo", "acme/lifecycle"));

        JsonNode stopped = h.call("deploy.stop", data("name", name));
        assertThat(stopped.get("status").asText()).isEqualTo("stopped");
        assertThat(stopped.at("/services/0/state").asText()).isEqualTo("exited");
        assertThat(Harness.dockerPs(name)).endsWith("exited");

        JsonNode started = h.call("deploy.start", data("name", name));
        assertThat(started.at("/services/0/state").asText()).isEqualTo("running");
        assertThat(h.get(port(started), "/index.html")).isEqualTo("200 alive");

        JsonNode list = h.call("deploy.list", null);
        assertThat(list.get("deployments")).anySatisfy(d -> {
            assertThat(d.get("name").asText()).isEqualTo(name);
            assertThat(d.get("status").asText()).isEqualTo("running");
            assertThat(d.get("commit").asText()).isEqualTo(deployed.get("commit").asText());
        });
        JsonNode logs = h.call("deploy.logs", data("name", name, "tail", 1));
        assertThat(logs.get("lines")).hasSize(1);
        assertThat(logs.at("/lines/0/service").asText()).isEqualTo("web");
        // Docker's timestamp comes apart from the text, so a follower can ask again since it
        assertThat(java.time.Instant.parse(logs.at("/lines/0/time").asText())).isBefore(java.time.Instant.now());
        assertThat(logs.at("/lines/0/line").asText()).doesNotStartWith(logs.at("/lines/0/time").asText());
        JsonNode none = h.call("deploy.logs", data("name", name, "since", "2999-01-01T00:00:00Z"));
        assertThat(none.get("lines")).isEmpty();
    }

    private static JsonNode call(RecordingContext ctx) {
        try {
            return h.call(ctx);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (Exception e) {
            return "";
        }
    }
}
