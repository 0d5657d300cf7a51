package dev.hostdeploy.manager;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.http.FailedAuthLimiter;
import dev.hostdeploy.protocol.Backoff;
import dev.hostdeploy.protocol.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A real Manager on port 0 with the embedded store, and a small HTTP client for it. */
final class TestManager implements AutoCloseable {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final Path identityDir;
    final Path dataDir;
    final Manager manager;
    final String adminToken;

    record Response(int status, JsonNode json, String body, HttpResponse<String> raw) {
    }

    private TestManager(Path identityDir, Path dataDir, Manager manager, String adminToken) {
        this.identityDir = identityDir;
        this.dataDir = dataDir;
        this.manager = manager;
        this.adminToken = adminToken;
    }

    static ManagerConfig config(Path root) {
        return new ManagerConfig(root.resolve("identity"), root.resolve("data"))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .statsTtl(Duration.ofMillis(500))
                .pingInterval(Duration.ofMillis(500))
                .agentTimeout(Duration.ofSeconds(5))
                .statsCallTimeout(Duration.ofSeconds(3))
                .agentBackoff(new Backoff(Duration.ofMillis(100), Duration.ofMillis(500)))
                .limiter(new FailedAuthLimiter(50, Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMinutes(1)));
    }

    static TestManager start(Path root) throws IOException {
        return start(root, c -> c);
    }

    static TestManager start(Path root, UnaryOperator<ManagerConfig> tweak) throws IOException {
        ManagerConfig config = tweak.apply(config(root));
        Manager manager = Manager.start(config);
        Path tokenFile = config.dataDir.resolve(Manager.ADMIN_TOKEN_FILE);
        String token = Files.exists(tokenFile) ? Files.readString(tokenFile).trim() : config.bootstrapToken;
        return new TestManager(config.identityDir, config.dataDir, manager, token);
    }

    String url(String path) {
        return "http://127.0.0.1:" + manager.port() + "/api/v1" + path;
    }

    Response get(String path, String token) {
        return send(request(path, token).GET());
    }

    Response post(String path, String token, Object body) {
        String json;
        try {
            json = body == null ? "" : body instanceof String s ? s : Json.MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return send(request(path, token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    Response patch(String path, String token, Object body) {
        String json;
        try {
            json = body instanceof String s ? s : Json.MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return send(request(path, token).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
    }

    Response put(String path, String token, Object body) {
        String json;
        try {
            json = body instanceof String s ? s : Json.MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return send(request(path, token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    Response delete(String path, String token) {
        return send(request(path, token).DELETE());
    }

    Response admin(String method, String path, Object body) {
        return switch (method) {
            case "GET" -> get(path, adminToken);
            case "POST" -> post(path, adminToken, body);
            case "PATCH" -> patch(path, adminToken, body);
            case "DELETE" -> delete(path, adminToken);
            default -> throw new IllegalArgumentException(method);
        };
    }

    private HttpRequest.Builder request(String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    static Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            if (r.body() != null && !r.body().isEmpty() && r.headers().firstValue("Content-Type").orElse("").contains("json")) {
                json = Json.MAPPER.readTree(r.body());
            }
            return new Response(r.statusCode(), json, r.body(), r);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Creates a user and a token for it; returns the token. */
    String userToken(String name, String role) {
        Response u = admin("POST", "/users", java.util.Map.of("name", name, "role", role));
        if (u.status() != 201) {
            throw new IllegalStateException("create user: " + u.body());
        }
        Response t = admin("POST", "/users/" + u.json().get("id").asText() + "/tokens", java.util.Map.of("name", "test"));
        return t.json().get("token").asText();
    }

    @Override
    public void close() {
        manager.close();
    }
}
