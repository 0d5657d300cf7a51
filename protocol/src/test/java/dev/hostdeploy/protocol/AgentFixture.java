package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A real agent on a loopback port 0 with a few test commands, and clients for it. */
final class AgentFixture implements AutoCloseable {
    @JsonIgnoreProperties(ignoreUnknown = true)
    record PortData(int port, String label) {
        PortData {
            Validation.require(port >= 1 && port <= 65535, "port", "must be 1-65535");
        }
    }

    final Identity agent;
    final Identity manager;
    final HandlerRegistry registry = new HandlerRegistry();
    AgentServer server;
    int port;

    AgentFixture(Identity agent, Identity manager) {
        this.agent = agent;
        this.manager = manager;
        registry.registerInline("test.echo", CommandContext::data);
        registry.register("test.slow", ctx -> {
            Thread.sleep(ctx.data().path("ms").asLong(100)); // a slow handler is what this command is for
            return Map.of("slept", true);
        });
        registry.register("test.progress", ctx -> {
            for (int i = 1; i <= 3; i++) {
                ctx.progress(Map.of("step", i));
            }
            return Map.of("done", true);
        });
        registry.register("test.port", ctx -> ctx.data(PortData.class));
        registry.register("test.fail", ctx -> {
            throw new IllegalStateException("secret internal detail /etc/shadow");
        });
        registry.register("test.event", ctx -> {
            ctx.event(Map.of("hello", "manager"));
            return null;
        });
    }

    AgentFixture start() throws InterruptedException {
        return start(0, Duration.ofSeconds(30));
    }

    AgentFixture start(int fixedPort, Duration lostTimeout) throws InterruptedException {
        server = AgentServer.builder(agent, TrustPolicy.exactly(List.of(manager.fingerprint())), registry)
                .listen(new java.net.InetSocketAddress("127.0.0.1", fixedPort))
                .kind("test-agent").version("1.2.3").connectionLostTimeout(lostTimeout).build();
        server.start();
        port = server.port();
        return this;
    }

    URI uri() {
        return URI.create("wss://127.0.0.1:" + port + AgentServer.PATH);
    }

    AgentClient.Builder client() {
        return client(manager);
    }

    AgentClient.Builder client(Identity as) {
        return AgentClient.builder(uri(), as, TrustPolicy.exactly(List.of(agent.fingerprint())))
                .backoff(new Backoff(Duration.ofMillis(100), Duration.ofMillis(500)));
    }

    AgentClient connected() throws InterruptedException {
        AgentClient c = client().build();
        c.start();
        if (!c.awaitConnected(Duration.ofSeconds(10))) {
            c.close();
            throw new AssertionError("client did not connect: " + c.lastFailure());
        }
        return c;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
