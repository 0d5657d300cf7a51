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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The compose policy and the isolation of deployment variables, through the handlers, on real dockerd. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HardeningDeployTest extends HarnessTest {
    private static final String PRIVILEGED_SITE = """
            version: "2.4"
            services:
              web:
                image: hostdeploy-test/busybox:1
                privileged: true
                stop_signal: SIGKILL
                ports:
                  - "127.0.0.1::8080"
                command: ["sh", "-c", "echo privileged > /www/index.html && exec httpd -f -p 8080 -h /www"]
            """;

    @Test
    void aPrivilegedServiceIsRefusedBeforeAnyContainerIsCreated() throws Exception {
        h.github.create("acme/priv").push("privileged", Map.of("docker-compose.yml", PRIVILEGED_SITE));
        String name = h.name("priv");
        int before = h.processes.size();

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/priv")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo("composePath");
                    assertThat(e.getMessage()).contains(
                            "service 'web': privileged is not allowed (ask an admin for an exception: allow.privileged)");
                });

        assertThat(Harness.dockerPs(name)).isEmpty();
        assertThat(h.processesSince(before)).filteredOn(Harness::isCompose)
                .allSatisfy(cmd -> assertThat(cmd).endsWith("config"));
        assertThat(h.call("deploy.status", data("name", name)).get("status").asText()).isEqualTo("failed");
    }

    @Test
    void aRefusedCommitLeavesThePreviousContainersAsTheyWere() throws Exception {
        var repo = h.siteRepo("later", "safe");
        String name = h.name("later");
        JsonNode first = h.call("deploy.sync", data("name", name, "repo", "acme/later"));
        repo.push("mount the host", Map.of("docker-compose.yml", """
                version: "2.4"
                services:
                  web:
                    build: .
                    volumes:
                      - /:/host
                """));

        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/later")))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.getMessage())
                        .contains("service 'web': volumes '/' is not allowed"));

        JsonNode status = h.call("deploy.status", data("name", name));
        assertThat(status.get("commit").asText()).isEqualTo(first.get("commit").asText());
        assertThat(status.at("/services/0/containerId").asText()).isEqualTo(first.at("/services/0/containerId").asText());
        assertThat(status.at("/services/0/startedAt").asText()).isEqualTo(first.at("/services/0/startedAt").asText());
        assertThat(h.get(port(first), "/index.html")).isEqualTo("200 safe");
    }

    @Test
    void anAdminExceptionLetsTheNamedServiceMountAHostFile() throws Exception {
        // (privileged itself cannot start on this test host, itself a container: a host bind mount can)
        h.github.create("acme/allowed").push("host file", Map.of("docker-compose.yml", """
                version: "2.4"
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    stop_signal: SIGKILL
                    ports:
                      - "127.0.0.1::8080"
                    volumes:
                      - /etc/hostname:/www/index.html:ro
                    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
                """));
        String name = h.name("allowed");
        assertThatThrownBy(() -> h.call("deploy.sync", data("name", name, "repo", "acme/allowed",
                "allow", Map.of("bindMounts", List.of("other")))))
                .hasMessageContaining("service 'web': volumes '/etc/hostname' is not allowed");

        JsonNode reply = h.call("deploy.sync", data("name", name, "repo", "acme/allowed",
                "allow", Map.of("bindMounts", List.of("web"))));

        assertThat(h.get(port(reply), "/index.html")).isEqualTo("200 " + Files.readString(Path.of("/etc/hostname")).trim());
    }

    @Test
    void loaderAndLocaleVariablesReachTheContainerButNeverComposeItself() throws Exception {
        var repo = h.github.create("acme/envs");
        repo.push("print env", Map.of("docker-compose.yml", """
                version: "2.4"
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    stop_signal: SIGKILL
                    ports:
                      - "127.0.0.1::8080"
                    environment: [LD_PRELOAD, GCONV_PATH, TZ, NODE_ENV, LANG, TRICKY]
                    labels:
                      interpolated: "${NODE_ENV}"
                    command: ["sh", "-c", "env > /www/env.txt && exec httpd -f -p 8080 -h /www"]
                """));
        String name = h.name("envs");
        // quotes, a dollar-brace, a comment marker and a trailing backslash: python-dotenv mangles all of them
        String tricky = "it's \"q\" ${HOME} $PATH #x \\n \\";
        RecordingContext ctx = new RecordingContext("deploy.sync", data("name", name, "repo", "acme/envs",
                "env", Map.of("LD_PRELOAD", "/nonexistent-preload.so", "GCONV_PATH", "/nonexistent-gconv",
                        "TZ", "Europe/Paris", "NODE_ENV", "production", "LANG", "C.UTF-8", "TRICKY", tricky)));

        JsonNode reply = h.call(ctx);

        String served = h.get(port(reply), "/env.txt");
        assertThat(served).startsWith("200 ");
        assertThat(served.substring(4).split("\n")).contains("LD_PRELOAD=/nonexistent-preload.so",
                "GCONV_PATH=/nonexistent-gconv", "TZ=Europe/Paris", "NODE_ENV=production", "LANG=C.UTF-8",
                "TRICKY=" + tricky);
        // ld.so would complain in every line compose printed had LD_PRELOAD been in its environment
        assertThat(ctx.progressText()).doesNotContain("ld.so").doesNotContain("cannot be preloaded");
        StringBuilder label = new StringBuilder();
        TestImages.run(List.of("docker", "inspect", "-f", "{{index .Config.Labels \"interpolated\"}}",
                reply.at("/services/0/containerId").asText()), label);
        assertThat(label.toString().trim()).isEqualTo("production");
        // the values the Worker reads back from its env file are the ones it was given
        assertThat(h.call("deploy.sync", data("name", name, "repo", "acme/envs", "env", Map.of("LD_PRELOAD",
                "/nonexistent-preload.so", "GCONV_PATH", "/nonexistent-gconv", "TZ", "Europe/Paris", "NODE_ENV",
                "production", "LANG", "C.UTF-8", "TRICKY", tricky))).get("changed").asBoolean()).isFalse();
    }
}
