package dev.hostdeploy.guardian;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A real Guardian serving on 127.0.0.1 whose nft runs in a test namespace, and a Manager client for it. */
final class GuardianFixture implements AutoCloseable {
    static final Identity MANAGER = Identity.generate("test-manager");

    final GuardianAgent agent;
    final AgentClient client;
    final List<JsonNode> events = new CopyOnWriteArrayList<>();

    GuardianFixture(List<String> nft, Path stateDir, UnaryOperator<GuardianAgent.Builder> options) throws Exception {
        Identity id = Identity.generate("test-guardian");
        GuardianAgent.Builder b = GuardianAgent.builder(id, TrustPolicy.exactly(List.of(MANAGER.fingerprint())), stateDir)
                .nftCommand(nft);
        agent = options.apply(b).build();
        agent.start();
        client = AgentClient.builder(URI.create("wss://127.0.0.1:" + agent.port() + "/hostdeploy/v1"), MANAGER,
                        TrustPolicy.exactly(List.of(id.fingerprint())))
                .requestTimeout(Duration.ofSeconds(60)).onEvent(events::add).build();
        client.start();
        if (!client.awaitConnected(Duration.ofSeconds(20))) {
            throw new IllegalStateException("client did not connect");
        }
    }

    JsonNode call(String command, String json) throws Exception {
        try {
            return client.call(command, Json.MAPPER.readTree(json)).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AgentCallException ace) {
                throw ace;
            }
            throw e;
        }
    }

    AgentCallException error(String command, String json) throws Exception {
        try {
            JsonNode r = call(command, json);
            throw new AssertionError(command + " " + json + " succeeded: " + r);
        } catch (AgentCallException e) {
            return e;
        }
    }

    @Override
    public void close() {
        client.close();
        agent.close();
    }
}
