package dev.hostdeploy.manager;

import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real agent server over mutual TLS on loopback, answering the commands the Manager uses for stats
 * with data in the shapes the Worker and Guardian document; it counts every call it serves.
 */
final class TestAgent implements AutoCloseable {
    final Identity identity;
    final String kind;
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final AgentServer server;
    volatile int deployments = 3;
    volatile int containers = 2;
    /** {@code slow.wait} holds its caller until this opens; {@link #waiting} counts the held calls. */
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger waiting = new AtomicInteger();

    private TestAgent(Identity identity, String kind, String managerFingerprint, int port) throws InterruptedException {
        this.identity = identity;
        this.kind = kind;
        HandlerRegistry registry = new HandlerRegistry();
        if (kind.equals("worker")) {
            registry.register("host.stats", ctx -> count("host.stats", Map.ofEntries(
                    Map.entry("load1", 0.5), Map.entry("load5", 0.25), Map.entry("load15", 0.1), Map.entry("cpus", 2),
                    Map.entry("memoryTotalBytes", 8_000_000_000L), Map.entry("memoryAvailableBytes", 6_000_000_000L),
                    Map.entry("diskPath", "/srv/deploy"), Map.entry("diskTotalBytes", 100_000_000_000L),
                    Map.entry("diskFreeBytes", 40_000_000_000L), Map.entry("containersRunning", 4),
                    Map.entry("containersTotal", 5))));
            registry.register("deploy.list", ctx -> {
                List<Map<String, Object>> list = new ArrayList<>();
                for (int i = 0; i < deployments; i++) {
                    list.add(Map.of("name", "app-" + i, "repo", "testausserveri/app-" + i,
                            "status", i == 0 ? "failed" : "running", "commit", "abc" + i));
                }
                return count("deploy.list", Map.of("deployments", list));
            });
            registry.register("lxc.list", ctx -> {
                List<Map<String, Object>> list = new ArrayList<>();
                for (int i = 0; i < containers; i++) {
                    list.add(Map.of("name", "member-" + i, "owner", "user" + i,
                            "status", i == 0 ? "Stopped" : "Running"));
                }
                return count("lxc.list", Map.of("containers", list));
            });
            registry.register("slow.wait", ctx -> {
                waiting.incrementAndGet();
                return Map.of("released", release.await(60, TimeUnit.SECONDS));
            });
            registry.register("deploy.fail", ctx -> {
                count("deploy.fail", null);
                throw ProtocolException.conflict("deployment app-0 is being synced");
            });
        } else {
            registry.register("firewall.list", ctx -> count("firewall.list", Map.of(
                    "rules", List.of(Map.of("protocol", "tcp", "port", 8080, "owner", "deploy:app-1"),
                            Map.of("protocol", "tcp", "ports", "9000-9009", "owner", "lxc:member-1")),
                    "forwards", List.of(Map.of("protocol", "tcp", "hostPort", 2222, "target", "10.0.3.5:22",
                            "owner", "lxc:member-1")))));
            registry.register("firewall.status", ctx -> count("firewall.status", Map.of(
                    "table", true, "rules", 2, "forwards", 1, "drift", List.of())));
        }
        this.server = AgentServer.builder(identity, TrustPolicy.exactly(List.of(managerFingerprint)), registry)
                .listen(new InetSocketAddress("127.0.0.1", port)).kind(kind).version("9.8.7").workerThreads(64).build();
        server.start();
    }

    static TestAgent start(String kind, String managerFingerprint) throws InterruptedException {
        return new TestAgent(Identity.generate(kind), kind, managerFingerprint, 0);
    }

    /** Starts again on the same port with the same key, as after an agent restart. */
    TestAgent restart(String managerFingerprint) throws InterruptedException {
        int port = port();
        close();
        return new TestAgent(identity, kind, managerFingerprint, port);
    }

    private Object count(String command, Object result) {
        calls.computeIfAbsent(command, c -> new AtomicInteger()).incrementAndGet();
        return result;
    }

    int calls(String command) {
        AtomicInteger n = calls.get(command);
        return n == null ? 0 : n.get();
    }

    int totalCalls() {
        return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    boolean hasConnection() {
        return server.hasConnection();
    }

    int port() {
        return server.port();
    }

    String address() {
        return "127.0.0.1:" + port();
    }

    Map<String, String> registration() {
        return Map.of("address", address(), "fingerprint", identity.fingerprint());
    }

    @Override
    public void close() {
        server.close();
    }
}
