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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The compose policy reuses compose's normalized config while the compose files and variables are the
 * same (no {@code compose config} run), and never lets a changed input or a changed checkout through.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PolicyReuseDeployTest extends HarnessTest {
    private static final String MOUNTED_SITE = """
            version: "2.4"
            services:
              web:
                image: hostdeploy-test/busybox:1
                stop_signal: SIGKILL
                ports:
                  - "127.0.0.1::8080"
                volumes:
                  - "${SOURCE:-./site}:/www:ro"
                command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
            """;

    @Test
    void aRedeployOfANewCommitWithTheSameComposeFilesRunsNoComposeConfig() throws Exception {
        var repo = h.siteRepo("reuse", "one");
        String name = h.name("reuse");
        h.call("deploy.sync", data("name", name, "repo", "acme/reuse"));
        repo.push("two", Map.of("index.html", "two\n"));
        int before = h.processes.size();
        RecordingContext ctx = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/reuse"));

        JsonNode reply = h.call(ctx);

        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 two");
        assertThat(composeCalls(before)).noneMatch(cmd -> cmd.get(cmd.size() - 1).equals("config"))
                .anyMatch(cmd -> cmd.contains("up"));
        assertThat(ctx.progressText()).contains("compose policy: ok; compose config not run");
    }

    @Test
    void aChangedForbiddenComposeFileIsRefusedAfterAnAllowedRedeployReusedTheCheck() throws Exception {
        var repo = h.siteRepo("changed", "one");
        String name = h.name("changed");
        h.call("deploy.sync", data("name", name, "repo", "acme/changed"));
        repo.push("two", Map.of("index.html", "two\n"));
        JsonNode allowed = h.call("deploy.sync", data("name", name, "repo", "acme/changed"));
        repo.push("mount the host", Map.of("docker-compose.yml", Harness.siteFiles("x").get("docker-compose.yml")
                .replace("      - data:/data\n", "      - data:/data\n      - /:/host\n")));
        int before = h.processes.size();

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/changed")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.getMessage()).contains("service 'web': volumes '/' is not allowed");
                });

        assertThat(composeCalls(before)).singleElement().satisfies(cmd -> assertThat(cmd).endsWith("config"));
        JsonNode status = h.call("deploy.status", data("name", name));
        assertThat(status.get("commit").asText()).isEqualTo(allowed.get("commit").asText());
        assertThat(h.get(port(allowed), "/index.html")).isEqualTo("200 two");
    }

    @Test
    void aChangedExtendedFileIsCheckedAgain() throws Exception {
        var repo = h.github.create("acme/extended");
        repo.push("one", Map.of("docker-compose.yml", """
                version: "2.4"
                services:
                  web:
                    extends: {file: base.yml, service: base}
                """, "base.yml", MOUNTED_SITE.replace("  web:", "  base:"), "site/index.html", "one\n"));
        String name = h.name("extended");
        h.call("deploy.sync", data("name", name, "repo", "acme/extended"));
        repo.push("privileged", Map.of("base.yml", MOUNTED_SITE.replace("  web:", "  base:").replace("    image:", "    privileged: true\n    image:")));

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/extended")))
                .hasMessageContaining("service 'web': privileged is not allowed");
    }

    @Test
    void aChangedVariableIsCheckedAgain() throws Exception {
        h.github.create("acme/variable").push("one", Map.of("docker-compose.yml", MOUNTED_SITE,
                "site/index.html", "one\n"));
        String name = h.name("variable");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/variable",
                "env", Map.of("SOURCE", "./site")));
        int before = h.processes.size();

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/variable",
                "env", Map.of("SOURCE", "/etc"))))
                .hasMessageContaining("service 'web': volumes '/etc' is not allowed");

        assertThat(composeCalls(before)).singleElement().satisfies(cmd -> assertThat(cmd).endsWith("config"));
        assertThat(h.get(port(first), "/index.html")).isEqualTo("200 one");
    }

    @Test
    void aDirectoryTurnedIntoASymlinkOutOfTheCheckoutIsRefusedThoughComposeConfigIsReused() throws Exception {
        var repo = h.github.create("acme/symlinked");
        repo.push("one", Map.of("docker-compose.yml", MOUNTED_SITE, "site/index.html", "one\n"));
        String name = h.name("symlinked");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/symlinked"));
        Files.delete(repo.tree.resolve("site/index.html"));
        Files.delete(repo.tree.resolve("site"));
        repo.symlink("site", "/etc");
        repo.push("site is the host's /etc", Map.of());
        int before = h.processes.size();

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/symlinked")))
                .hasMessageContaining("service 'web': volumes '")
                .hasMessageContaining("allow.bindMounts");

        // the same compose file and variables: compose config was not run, the policy judged its output again
        assertThat(composeCalls(before)).isEmpty();
        assertThat(h.call("deploy.status", data("name", name)).get("commit").asText())
                .isEqualTo(first.get("commit").asText());
    }

    private List<List<String>> composeCalls(int since) {
        return h.processesSince(since).stream().filter(Harness::isCompose).toList();
    }
}
