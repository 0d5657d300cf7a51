package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line as an operator (or a container) runs it, in a separate JVM. */
@Timeout(90)
class ManagerMainTest {
    @TempDir
    Path root;

    private static ProcessBuilder java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                ManagerMain.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }

    private static String run(ProcessBuilder pb, int expectedExit) throws Exception {
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(expectedExit);
        return out;
    }

    @Test
    void initPrintsTheFingerprintThatFingerprintRepeats() throws Exception {
        Path dir = root.resolve("identity");
        String init = run(java("init", "--dir", dir.toString()), 0);
        String fp = run(java("fingerprint", "--dir", dir.toString()), 0).trim();
        assertThat(fp).matches("sha256:[0-9a-f]{64}");
        assertThat(init).contains(fp);
    }

    @Test
    void serveTakesItsSettingsFromHostdeployEnvironmentVariables() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String token = "container-bootstrap-token-abcdefghijklmnop";
        ProcessBuilder pb = java("serve");
        Map<String, String> env = pb.environment();
        env.put("HOSTDEPLOY_LISTEN", "127.0.0.1:" + port);
        env.put("HOSTDEPLOY_DIR", root.resolve("identity").toString());
        env.put("HOSTDEPLOY_DATA_DIR", root.resolve("data").toString());
        env.put("HOSTDEPLOY_BOOTSTRAP_TOKEN", token);
        File log = root.resolve("serve.log").toFile();
        Process p = pb.redirectOutput(log).start();
        try {
            TestManager.Response me;
            try {
                me = await("the Manager to answer").atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(200))
                        .until(() -> {
                            try {
                                return TestManager.send(HttpRequest.newBuilder(
                                                URI.create("http://127.0.0.1:" + port + "/api/v1/me"))
                                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)));
                            } catch (IllegalStateException e) {
                                assertThat(p.isAlive()).as(Files.readString(log.toPath())).isTrue();
                                return null;
                            }
                        }, Objects::nonNull);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError(e.getMessage() + "; log: " + Files.readString(log.toPath()), e);
            }
            assertThat(me.status()).isEqualTo(200);
            assertThat(me.json().get("name").asText()).isEqualTo("admin");
            assertThat(root.resolve("data/mongo.mv.db")).exists();
            assertThat(root.resolve("identity/key.pem")).exists();
            assertThat(root.resolve("data/admin-token")).doesNotExist();
        } finally {
            p.destroy();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(log.toPath())).doesNotContain(token);
    }

    @Test
    void serveWithoutADataDirSaysWhatIsMissing() throws Exception {
        ProcessBuilder pb = java("serve", "--dir", root.resolve("identity").toString());
        pb.environment().remove("HOSTDEPLOY_DATA_DIR");
        String out = run(pb, 64);
        assertThat(out).contains("--data-dir");
    }
}
