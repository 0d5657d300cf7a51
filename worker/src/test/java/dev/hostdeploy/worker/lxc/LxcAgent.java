package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** A Worker with only the LXC module, served over the real protocol, and a Manager-side client. */
final class LxcAgent implements AutoCloseable {
    final LxcModule module;
    final AgentServer server;
    final AgentClient client;

    LxcAgent(LxcOptions options) throws Exception {
        Identity worker = Identity.generate("worker");
        Identity manager = Identity.generate("manager");
        HandlerRegistry registry = new HandlerRegistry();
        module = LxcModule.create(options);
        module.register(registry);
        server = AgentServer.builder(worker, TrustPolicy.exactly(List.of(manager.fingerprint())), registry)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("test").build();
        server.start();
        client = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH), manager,
                        TrustPolicy.exactly(List.of(worker.fingerprint())))
                .requestTimeout(Duration.ofMinutes(5)).build();
        client.start();
        assertThat(client.awaitConnected(Duration.ofSeconds(20))).as("client connects").isTrue();
    }

    static LxcAgent withImages(Path backupRoot, int keep, String... images) throws Exception {
        return new LxcAgent(new LxcOptions(List.of(images), backupRoot, keep, null));
    }

    JsonNode call(String command, Object data) {
        try {
            return client.call(command, data).get(6, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new CompletionException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(command + " did not answer", e);
        }
    }

    AgentCallException error(String command, Object data) {
        AgentCallException e = catchThrowableOfType(AgentCallException.class, () -> call(command, data));
        assertThat(e).as(command + " should fail").isNotNull();
        return e;
    }

    @Override
    public void close() {
        client.close();
        server.close();
        module.close();
    }
}
