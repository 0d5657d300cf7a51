package dev.hostdeploy.manager.deployments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.hostdeploy.protocol.Json;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeployNotifierTest {
    HttpServer server;
    final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    final BlockingQueue<String> contentTypes = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", ex -> {
            contentTypes.add(ex.getRequestMethod() + " " + ex.getRequestHeaders().getFirst("Content-Type"));
            received.add(Json.MAPPER.readTree(ex.getRequestBody()));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aFinishedDeployIsPostedWithSlackTextDiscordContentAndTheStructuredFields() throws Exception {
        var notifier = new DeployNotifier(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook"));
        String commit = "0123456789abcdef0123456789abcdef01234567";
        notifier.finished("web", commit, "succeeded", Duration.ofMillis(2500), null);

        JsonNode body = received.poll(10, TimeUnit.SECONDS);
        assertThat(body).isNotNull();
        assertThat(contentTypes.poll()).isEqualTo("POST application/json");
        assertThat(body.get("text").asText()).isEqualTo("hostdeploy: web succeeded at 0123456789ab in 2.5 s");
        assertThat(body.get("content").asText()).isEqualTo(body.get("text").asText());
        assertThat(body.get("deployment").asText()).isEqualTo("web");
        assertThat(body.get("commit").asText()).isEqualTo(commit);
        assertThat(body.get("result").asText()).isEqualTo("succeeded");
        assertThat(body.get("durationSeconds").asDouble()).isEqualTo(2.5);

        notifier.finished("web", null, "failed", Duration.ofSeconds(1), "compose: exit 1");
        JsonNode failed = received.poll(10, TimeUnit.SECONDS);
        assertThat(failed.get("text").asText()).isEqualTo("hostdeploy: web failed in 1.0 s: compose: exit 1");
        assertThat(failed.get("error").asText()).isEqualTo("compose: exit 1");
    }

    @Test
    void aNotificationThatCannotBeDeliveredIsOnlyLogged() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        var notifier = new DeployNotifier(URI.create("http://127.0.0.1:" + closed + "/hook"));
        // The listener call itself never fails; the POST in flight fails on its own.
        notifier.finished("web", null, "failed", Duration.ZERO, null);
        assertThatThrownBy(() -> notifier.send("web", null, "failed", Duration.ZERO, null).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
    }

    @Test
    void onlyHttpUrlsAreAccepted() {
        assertThatThrownBy(() -> new DeployNotifier(URI.create("file:///etc/passwd")))
                .hasMessageContaining("--notify-url");
    }
}
