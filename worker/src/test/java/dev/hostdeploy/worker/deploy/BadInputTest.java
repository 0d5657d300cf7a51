package dev.hostdeploy.worker.deploy;

import static dev.hostdeploy.worker.deploy.Harness.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad requests get invalid_data naming the field, before git or Docker is touched. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BadInputTest extends HarnessTest {
    @Test
    void nonAllowlistedOrgIsRefusedBeforeAnyGitOrDockerCall() throws Exception {
        h.github.create("evil/app").push("payload", Harness.siteFiles("pwned"));
        String name = h.name("evil");
        int before = h.processes.size();

        assertInvalid("deploy.sync", data("name", name, "repo", "evil/app"), "repo", "not allowed");
        assertInvalid("repo.head", data("repo", "evil/app"), "repo", "not allowed");
        // the allowlist is not fooled by case
        assertInvalid("deploy.sync", data("name", name, "repo", "EVIL/app"), "repo", "not allowed");

        assertThat(h.processesSince(before)).isEmpty();
        assertThat(h.github.daemonLog()).doesNotContain("evil/app");
        assertThat(h.options.deployRoot().resolve(name)).doesNotExist();
        assertThat(Harness.dockerPs(name)).isEmpty();
    }

    @Test
    void pathTraversalInComposePathIsRefusedBeforeAnyGitOrDockerCall() throws Exception {
        h.siteRepo("traversal", "x");
        String name = h.name("traversal");
        int before = h.processes.size();

        for (String path : new String[] {"../../etc/x", "/etc/passwd", "a/../../x", "..", "~/x", "a\\..\\..\\x"}) {
            assertInvalid("deploy.sync", data("name", name, "repo", "acme/traversal", "composePath", path),
                    "composePath", "");
        }

        assertThat(h.processesSince(before)).isEmpty();
        assertThat(h.github.daemonLog()).doesNotContain("acme/traversal");
        assertThat(h.options.deployRoot().resolve(name)).doesNotExist();
        assertThat(Harness.dockerPs(name)).isEmpty();
    }

    @Test
    void composePathThroughASymlinkOutOfTheCheckoutIsRefusedWithoutRunningCompose() throws Exception {
        var repo = h.github.create("acme/symlinks");
        repo.symlink("outside.yml", "/etc/hostname");
        repo.symlink("etc", "/etc");
        repo.symlink("sneaky/up.yml", "../../../../../../../../etc/hostname");
        repo.push("links", Map.of("README", "links"));
        String name = h.name("symlinks");
        int before = h.processes.size();

        for (String path : new String[] {"outside.yml", "etc/hostname", "sneaky/up.yml"}) {
            assertInvalid("deploy.sync", data("name", name, "repo", "acme/symlinks", "composePath", path),
                    "composePath", "outside the repository");
        }
        // no default compose file: refused too, naming the field
        assertInvalid("deploy.sync", data("name", name, "repo", "acme/symlinks"), "composePath", "compose.yaml");

        assertThat(h.processesSince(before)).noneMatch(Harness::isCompose);
        assertThat(Harness.dockerPs(name)).isEmpty();
    }

    @Test
    void malformedNamesReposRefsAndEnvAreRefusedNamingTheField() throws Exception {
        int before = h.processes.size();
        String ok = h.name("ok");

        assertInvalid("deploy.sync", data("name", "Bad_Name", "repo", "acme/x"), "name", "");
        assertInvalid("deploy.sync", data("name", "-x", "repo", "acme/x"), "name", "");
        assertInvalid("deploy.sync", data("repo", "acme/x"), "name", "required");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x/y"), "repo", "org/name");
        assertInvalid("deploy.sync", data("name", ok, "repo", "-acme/x"), "repo", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/.."), "repo", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "ref", "--upload-pack=touch /tmp/x"), "ref", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "ref", "main..evil"), "ref", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "ref", "a b"), "ref", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "env", Map.of("1BAD", "v")), "env", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "env", Map.of("K", "line\nbreak")), "env.K", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "env", "not a map"), "env", "");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "env", Map.of("COMPOSE_FILE", "/x.yml")),
                "env.COMPOSE_FILE", "reserved");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "env", Map.of("DOCKER_HOST", "tcp://x")),
                "env.DOCKER_HOST", "reserved");
        assertInvalid("deploy.sync", data("name", ok, "repo", "acme/x", "env", Map.of("Path", "/tmp")),
                "env.Path", "reserved");
        assertInvalid("deploy.rollback", data("name", ok, "commit", "HEAD~1"), "commit", "");
        assertInvalid("deploy.logs", data("name", ok, "tail", 0), "tail", "");
        assertInvalid("deploy.logs", data("name", ok, "since", "yesterday"), "since", "");
        assertInvalid("repo.head", data("repo", "acme/x", "ref", "refs/heads/x.lock"), "ref", "");

        assertThat(h.processesSince(before)).isEmpty();
    }

    @Test
    void errorsNeverEchoSecretValues() {
        String secret = "top-secret-" + h.runId;
        assertThatThrownBy(() -> h.call("deploy.sync", data("name", h.name("leak"), "repo", "acme/x",
                "env", Map.of("TOKEN", secret + "\n"))))
                .isInstanceOf(ProtocolException.class)
                .hasMessageNotContaining(secret);
    }

    @Test
    void unknownDeploymentsAreNotFound() {
        for (String command : new String[] {"deploy.status", "deploy.stop", "deploy.start", "deploy.remove"}) {
            assertThatThrownBy(() -> h.call(command, data("name", h.name("nothing"))))
                    .isInstanceOfSatisfying(ProtocolException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        }
    }

    private static void assertInvalid(String command, Object data, String field, String messagePart) {
        assertThatThrownBy(() -> h.call(command, data))
                .as("%s %s", command, data)
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.getMessage()).contains(messagePart);
                });
    }
}
