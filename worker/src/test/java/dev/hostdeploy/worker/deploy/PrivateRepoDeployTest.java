package dev.hostdeploy.worker.deploy;

import static dev.hostdeploy.worker.deploy.Harness.data;
import static dev.hostdeploy.worker.deploy.Harness.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.RecordingContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A private repo reached only over SSH (a real sshd on loopback) with its deploy key: the key is on disk,
 * owner-only, just while git runs.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PrivateRepoDeployTest {
    @TempDir
    static Path dir;
    static SshFixture ssh;
    static GitHubFixture privateRepos;
    static Harness h;
    static String[] deployKey;
    /** For each git call: the key files present as it started, with their permissions and their directory's. */
    static final List<String> keyFilesSeen = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        ssh = new SshFixture(dir.resolve("ssh"));
        deployKey = SshFixture.newKey(dir, "deploy_key");
        ssh.authorize(deployKey[1]);
        // Not under the git daemon's base: reachable over SSH only, like a private GitHub repo.
        privateRepos = new GitHubFixture(dir.resolve("private"));
        h = new Harness(dir, o -> o.gitSshBase(ssh.sshBase(privateRepos.base)), cmd -> {
            if (cmd.get(0).equals("git")) {
                keyFilesSeen.add(keyFiles().toString());
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
        if (privateRepos != null) {
            privateRepos.close();
        }
        if (ssh != null) {
            ssh.close();
        }
    }

    static List<String> keyFiles() {
        Path keys = h.options.deployRoot().resolve(".keys");
        if (!Files.isDirectory(keys)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(keys)) {
            return all.filter(Files::isRegularFile).map(f -> {
                try {
                    return PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())) + " "
                            + PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void privateRepoDeploysOverSshWithItsDeployKeyWrittenOwnerOnlyAndOnlyDuringGit() throws Exception {
        var repo = privateRepos.create(Harness.ORG + "/secret-site");
        String commit = repo.push("site", Harness.siteFiles("private hello"));
        String name = h.name("private");
        keyFilesSeen.clear();
        RecordingContext ctx = new RecordingContext("deploy.sync",
                data("name", name, "repo", "acme/secret-site", "deployKey", deployKey[0]));

        JsonNode reply = h.call(ctx);

        assertThat(reply.get("commit").asText()).isEqualTo(commit);
        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 private hello");
        // ls-remote and clone each ran with exactly one key file, rwx------ dir and rw------- file
        assertThat(keyFilesSeen).contains("[rwx------ rw-------]");
        assertThat(keyFilesSeen).allSatisfy(seen -> assertThat(seen).isIn("[]", "[rwx------ rw-------]"));
        assertThat(keyFiles()).isEmpty();
        try (Stream<Path> left = Files.list(h.options.deployRoot().resolve(".keys"))) {
            assertThat(left).isEmpty();
        }
        // the progress lines show the SSH URL, never the key
        assertThat(ctx.progress.toString()).contains("ssh://").doesNotContain("OPENSSH PRIVATE KEY")
                .doesNotContain(deployKey[0].lines().skip(1).findFirst().orElseThrow());

        // a second push is fetched over SSH into the existing clone
        String second = repo.push("site 2", Harness.siteFiles("private hello 2"));
        JsonNode again = h.call("deploy.sync", data("name", name, "repo", "acme/secret-site", "deployKey", deployKey[0]));
        assertThat(again.get("commit").asText()).isEqualTo(second);
        assertThat(h.get(port(again), "/index.html")).isEqualTo("200 private hello 2");
        assertThat(keyFiles()).isEmpty();
    }

    @Test
    void privateRepoWithoutItsKeyOrWithAnotherKeyIsNotFoundAndLeavesNoKeyBehind() throws Exception {
        privateRepos.create(Harness.ORG + "/locked").push("one", Map.of("a", "1"));
        String[] other = SshFixture.newKey(dir, "other_key");

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", h.name("locked"), "repo", "acme/locked")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> h.call("deploy.sync", data("name", h.name("locked2"), "repo", "acme/locked",
                "deployKey", other[0])))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThat(keyFiles()).isEmpty();
        // repo.head of a private repo works with its key, like the poller asks it
        assertThat(h.call("repo.head", data("repo", "acme/locked", "deployKey", deployKey[0])).get("commit").asText())
                .hasSize(40);
    }

    @Test
    void aDeployKeyThatIsNotAnOpenSshPrivateKeyIsRefusedNamingTheFieldWithoutQuotingIt() {
        for (String bad : List.of("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI hostdeploy-x",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n",
                "-----BEGIN OPENSSH PRIVATE KEY-----\n'; touch /tmp/pwned; '\n-----END OPENSSH PRIVATE KEY-----")) {
            assertThatThrownBy(() -> h.call("deploy.sync", data("name", "bad-key", "repo", "acme/locked", "deployKey", bad)))
                    .isInstanceOfSatisfying(ProtocolException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                        assertThat(e.getMessage()).contains("deployKey").doesNotContain(bad);
                    });
        }
        assertThat(h.processes).noneSatisfy(cmd -> assertThat(cmd).contains("bad-key"));
    }
}
