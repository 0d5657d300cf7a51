package dev.hostdeploy.worker.deploy;

import static dev.hostdeploy.worker.deploy.Harness.data;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A Manager drives the deploy commands over the real mutual-TLS WebSocket protocol. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DeployOverProtocolTest {
    @TempDir
    static Path dir;
    static Harness h;
    static AgentServer server;
    static AgentClient manager;

    @BeforeAll
    static void start() throws Exception {
        h = new Harness(dir);
        Identity worker = Identity.generate("worker");
        Identity managerId = Identity.generate("manager");
        HandlerRegistry registry = new HandlerRegistry();
        h.module.register(registry);
        server = AgentServer.builder(worker, TrustPolicy.exactly(List.of(managerId.fingerprint())), registry)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("test").build();
        server.start();
        manager = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH), managerId,
                TrustPolicy.exactly(List.of(worker.fingerprint()))).requestTimeout(Duration.ofMinutes(1)).build();
        manager.start();
        assertThat(manager.awaitConnected(Duration.ofSeconds(20))).isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        if (manager != null) {
            manager.close();
        }
        if (server != null) {
            server.close();
        }
        if (h != null) {
            h.close();
        }
    }

    @Test
    void managerDeploysStreamsProgressAndRemovesOverTheWire() throws Exception {
        h.siteRepo("wire", "over the wire");
        String name = h.name("wire");
        List<JsonNode> progress = new CopyOnWriteArrayList<>();

        JsonNode reply = manager.call("deploy.sync", data("name", name, "repo", "acme/wire",
                "env", Map.of("GREETING", "wire-secret-" + h.runId)), Duration.ofMinutes(1), progress::add).get();

        assertThat(reply.get("changed").asBoolean()).isTrue();
        assertThat(h.get(Harness.port(reply), "/index.html")).isEqualTo("200 over the wire");
        assertThat(progress).anySatisfy(p -> assertThat(p.get("stage").asText()).isEqualTo("compose"));
        assertThat(progress.toString()).doesNotContain("wire-secret-" + h.runId);
        assertThat(server.port()).isPositive();
        assertThat(manager.call("deploy.list", null).get().get("deployments").toString()).contains(name);

        manager.call("deploy.remove", data("name", name, "removeVolumes", true)).get();
        assertThat(Harness.dockerPs(name)).isEmpty();
    }

    @Test
    void badInputComesBackAsInvalidDataNamingTheField() {
        assertThatThrownBy(() -> manager.call("deploy.sync", data("name", h.name("x"), "repo", "acme/x",
                "composePath", "../../etc/x")).get())
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(AgentCallException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.error().field()).isEqualTo("composePath");
                });
    }
}
