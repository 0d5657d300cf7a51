package dev.hostdeploy.worker.deploy;

import static dev.hostdeploy.worker.deploy.Harness.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** repo.head (polling without cloning) and host.stats. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class RepoAndHostTest extends HarnessTest {
    @Test
    void repoHeadReturnsTheRemoteCommitOfABranchTagOrTheDefaultBranchWithoutCloning() throws Exception {
        var repo = h.github.create("acme/polled");
        String first = repo.push("one", Map.of("a", "1"));
        repo.tag("v1");
        String second = repo.push("two", Map.of("a", "2"));

        assertThat(h.call("repo.head", data("repo", "acme/polled")).get("commit").asText()).isEqualTo(second);
        assertThat(h.call("repo.head", data("repo", "acme/polled", "ref", "main")).get("commit").asText()).isEqualTo(second);
        // an annotated tag answers with the commit it tags, not the tag object
        assertThat(h.call("repo.head", data("repo", "acme/polled", "ref", "v1")).get("commit").asText()).isEqualTo(first);
        assertThat(h.call("repo.head", data("repo", "acme/polled", "ref", "refs/tags/v1")).get("commit").asText())
                .isEqualTo(first);
        assertThat(h.processes).allSatisfy(cmd -> assertThat(cmd).contains("ls-remote"));
        try (var entries = java.nio.file.Files.list(h.options.deployRoot())) {
            assertThat(entries.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith("."));
        }
    }

    @Test
    void repoHeadOfAMissingRefOrRepoIsNotFound() {
        assertThatThrownBy(() -> h.call("repo.head", data("repo", "acme/polled", "ref", "no-such-branch")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> h.call("repo.head", data("repo", "acme/no-such-repo")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void repoHeadsAnswersEachRepoOfABatchWithItsCommitOrItsOwnError() throws Exception {
        String a = h.github.create("acme/batch-a").push("one", Map.of("a", "1"));
        String b = h.github.create("acme/batch-b").push("one", Map.of("b", "1"));
        int before = h.processes.size();
        JsonNode r = h.call("repo.heads", Map.of("repos", java.util.List.of(
                Map.of("repo", "acme/batch-a", "ref", "main"),
                Map.of("repo", "acme/batch-b"),
                Map.of("repo", "acme/batch-a", "ref", "no-such-branch"),
                Map.of("repo", "other/elsewhere"),
                Map.of("repo", "acme/batch-a", "ref", "main"))));

        JsonNode heads = r.get("heads");
        assertThat(heads).hasSize(5);
        assertThat(heads.get(0).get("commit").asText()).isEqualTo(a);
        assertThat(heads.get(1).get("commit").asText()).isEqualTo(b);
        assertThat(heads.get(2).at("/error/code").asText()).isEqualTo("not_found");
        assertThat(heads.get(2).has("commit")).isFalse();
        assertThat(heads.get(3).at("/error/code").asText()).isEqualTo("invalid_data");
        assertThat(heads.get(4).get("commit").asText()).isEqualTo(a);
        // The repeated repo and ref was asked once, the refused repo not at all: three ls-remote, no clone.
        assertThat(h.processesSince(before)).hasSize(3).allSatisfy(cmd -> assertThat(cmd).contains("ls-remote"));
    }

    @Test
    void repoHeadsWithoutReposIsRefusedNamingTheField() {
        assertThatThrownBy(() -> h.call("repo.heads", data()))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.getMessage()).contains("repos"));
    }

    private static int dockerCount() throws Exception {
        StringBuilder all = new StringBuilder();
        TestImages.run(java.util.List.of("docker", "ps", "-aq"), all);
        return all.toString().isBlank() ? 0 : all.toString().trim().split("\n").length;
    }

    @Test
    void hostStatsReportsLoadMemoryDiskAndDockerContainers() throws Exception {
        int before = dockerCount();
        JsonNode stats = h.call("host.stats", null);

        assertThat(stats.get("cpus").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(stats.get("load1").asDouble()).isGreaterThanOrEqualTo(0);
        assertThat(stats.get("memoryTotalBytes").asLong()).isGreaterThan(stats.get("memoryAvailableBytes").asLong())
                .isGreaterThan(0);
        assertThat(stats.get("diskPath").asText()).isEqualTo(h.options.deployRoot().toString());
        assertThat(stats.get("diskTotalBytes").asLong()).isGreaterThanOrEqualTo(stats.get("diskFreeBytes").asLong())
                .isGreaterThan(0);
        // Docker's own count, taken around the call: other suites may start or stop containers meanwhile.
        int after = dockerCount();
        assertThat(stats.get("containersTotal").asInt()).isBetween(Math.min(before, after), Math.max(before, after));
        assertThat(stats.get("containersRunning").asInt()).isBetween(0, stats.get("containersTotal").asInt());
    }
}
