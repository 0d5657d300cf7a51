package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real Manager process on the embedded store, killed with SIGKILL right after it acknowledged writes. */
@Timeout(120)
class CrashDurabilityTest {
    @TempDir
    Path root;

    @Test
    void whatTheApiAcknowledgedSurvivesKill9() throws Exception {
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        String revokedToken;
        String keptToken;
        try (ManagerProcess m = ManagerProcess.start(root)) {
            keptToken = m.userToken("keeper");
            String victim = m.call("POST", "/users", Map.of("name", "victim")).json().get("id").asText();
            JsonNode token = m.call("POST", "/users/" + victim + "/tokens", Map.of("name", "laptop")).json();
            revokedToken = token.get("token").asText();
            assertThat(m.get("/me", revokedToken).status()).isEqualTo(200);

            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<CompletableFuture<Void>> creations = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String name = "u" + i;
                creations.add(CompletableFuture.runAsync(() -> {
                    if (m.call("POST", "/users", Map.of("name", name)).status() == 201) {
                        acknowledged.add(name);
                    }
                }, pool));
            }
            CompletableFuture.allOf(creations.toArray(CompletableFuture[]::new)).join();
            pool.shutdown();
            assertThat(m.call("DELETE", "/tokens/" + token.get("id").asText(), null).status()).isEqualTo(204);
            m.kill9();
        }
        assertThat(acknowledged).hasSize(40);

        try (ManagerProcess m = ManagerProcess.start(root)) {
            List<String> names = new ArrayList<>();
            for (JsonNode u : m.call("GET", "/users", null).json()) {
                names.add(u.get("name").asText());
            }
            assertThat(names).containsAll(acknowledged).contains("keeper", "victim");
            assertThat(m.get("/me", revokedToken).status()).isEqualTo(401);
            assertThat(m.get("/me", keptToken).status()).isEqualTo(200);
        }
    }

    /** {@code hostdeploy-manager serve} in a child JVM on this test's classpath. */
    static final class ManagerProcess implements AutoCloseable {
        private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
        final Process process;
        final int port;
        final String adminToken;

        private ManagerProcess(Process process, int port, String adminToken) {
            this.process = process;
            this.port = port;
            this.adminToken = adminToken;
        }

        static ManagerProcess start(Path root) throws IOException, InterruptedException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    ManagerMain.class.getName(), "serve", "--listen", "127.0.0.1:0",
                    "--dir", root.resolve("identity").toString(), "--data-dir", root.resolve("data").toString())
                    .redirectErrorStream(true).start();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            StringBuffer log = new StringBuffer();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        log.append(line).append('\n');
                        Matcher matcher = LISTENING.matcher(line);
                        if (matcher.find()) {
                            port.complete(Integer.parseInt(matcher.group(1)));
                        }
                    }
                } catch (IOException ignored) {
                    // The process is gone.
                }
                port.completeExceptionally(new IllegalStateException("Manager exited:\n" + log));
            }, "manager-log");
            reader.setDaemon(true);
            reader.start();
            try {
                int bound = port.get(60, TimeUnit.SECONDS);
                String token = Files.readString(root.resolve("data").resolve(Manager.ADMIN_TOKEN_FILE)).trim();
                return new ManagerProcess(p, bound, token);
            } catch (Exception e) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException("Manager did not start: " + e.getMessage(), e);
            }
        }

        TestManager.Response call(String method, String path, Object body) {
            return request(method, path, adminToken, body);
        }

        TestManager.Response get(String path, String token) {
            return request("GET", path, token, null);
        }

        TestManager.Response request(String method, String path, String token, Object body) {
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1" + path))
                        .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + token);
                if (body != null) {
                    b.header("Content-Type", "application/json")
                            .method(method, HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body)));
                } else {
                    b.method(method, HttpRequest.BodyPublishers.noBody());
                }
                return TestManager.send(b);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        String userToken(String name) {
            String id = call("POST", "/users", Map.of("name", name)).json().get("id").asText();
            return call("POST", "/users/" + id + "/tokens", Map.of("name", "t")).json().get("token").asText();
        }

        /** SIGKILL: no shutdown hook, no final commit. */
        void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    kill9();
                }
            }
        }
    }
}
