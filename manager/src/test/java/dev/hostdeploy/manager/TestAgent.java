package dev.hostdeploy.manager;

import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.schema.lxc.LxcSchema;
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
 * with data in the shapes the Worker and Guardian document; it counts every call it serves. Made with
 * {@link #start} it is an agent older than {@code host.summary} and {@code firewall.summary}.
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
    /** When set, {@code host.stats} is held like {@code slow.wait}: a host too slow for the stats round. */
    volatile boolean holdStats;

    private TestAgent(Identity identity, String kind, String managerFingerprint, int port) throws InterruptedException {
        this(identity, kind, managerFingerprint, port, AgentServer.PROTOCOL_VERSION);
    }

    private TestAgent(Identity identity, String kind, String managerFingerprint, int port, int protocolVersion)
            throws InterruptedException {
        this(identity, kind, managerFingerprint, port, protocolVersion, false);
    }

    private TestAgent(Identity identity, String kind, String managerFingerprint, int port, int protocolVersion,
                      boolean summaries) throws InterruptedException {
        this.identity = identity;
        this.kind = kind;
        HandlerRegistry registry = new HandlerRegistry();
        if (kind.equals("worker")) {
            registry.register(HostSchema.STATS, ctx -> {
                if (holdStats) {
                    waiting.incrementAndGet();
                    release.await(60, TimeUnit.SECONDS);
                }
                return count(HostSchema.STATS, new HostSchema.HostStats(0.5, 0.25, 0.1,
                        2, 8_000_000_000L, 6_000_000_000L, "/srv/deploy", 100_000_000_000L, 40_000_000_000L, 4, 5, 0.25));
            });
            registry.register(DeploySchema.LIST, ctx -> {
                List<DeploySchema.Status> list = new ArrayList<>();
                for (int i = 0; i < deployments; i++) {
                    list.add(new DeploySchema.Status("app-" + i, "testausserveri/app-" + i, "main", "abc" + i,
                            "docker-compose.yml", i == 0 ? "failed" : "running", null, null, List.of(), List.of()));
                }
                return count(DeploySchema.LIST, new DeploySchema.DeploymentList(list));
            });
            registry.register(LxcSchema.LIST, ctx -> {
                List<LxcSchema.Container> list = new ArrayList<>();
                for (int i = 0; i < containers; i++) {
                    list.add(new LxcSchema.Container("member-" + i, Owner.of("member", "user" + i), "hd-busybox",
                            i == 0 ? "Stopped" : "Running", null, List.of(), LxcSchema.SSH_UNAVAILABLE, null, null,
                            null));
                }
                return count(LxcSchema.LIST, new LxcSchema.ContainerList(list));
            });
            if (summaries) {
                // As the Worker's HostSummaryCommand: names and states of what the two lists above hold.
                registry.register(HostSchema.SUMMARY, ctx -> {
                    List<HostSchema.Item> deps = new ArrayList<>();
                    for (int i = 0; i < deployments; i++) {
                        deps.add(new HostSchema.Item("app-" + i, i == 0 ? "failed" : "running", null));
                    }
                    List<HostSchema.Item> boxes = new ArrayList<>();
                    for (int i = 0; i < containers; i++) {
                        boxes.add(new HostSchema.Item("member-" + i, i == 0 ? "Stopped" : "Running",
                                Owner.of("member", "user" + i)));
                    }
                    return count(HostSchema.SUMMARY, new HostSchema.HostSummary(new HostSchema.HostStats(0.5, 0.25,
                            0.1, 2, 8_000_000_000L, 6_000_000_000L, "/srv/deploy", 100_000_000_000L, 40_000_000_000L,
                            4, 5, 0.25), deps, boxes, Map.of()));
                });
            }
            registry.register("slow.wait", ctx -> {
                waiting.incrementAndGet();
                return Map.of("released", release.await(60, TimeUnit.SECONDS));
            });
            registry.register("deploy.fail", ctx -> {
                count("deploy.fail", null);
                throw ProtocolException.conflict("deployment app-0 is being synced");
            });
        } else {
            registry.register(FirewallSchema.LIST, ctx -> count(FirewallSchema.LIST, firewallState()));
            registry.register(FirewallSchema.STATUS, ctx -> count(FirewallSchema.STATUS, firewallStatus()));
            if (summaries) {
                registry.register(FirewallSchema.SUMMARY, ctx -> count(FirewallSchema.SUMMARY,
                        new FirewallSchema.Summary(firewallState(), firewallStatus())));
            }
        }
        this.server = AgentServer.builder(identity, TrustPolicy.exactly(List.of(managerFingerprint)), registry)
                .listen(new InetSocketAddress("127.0.0.1", port)).kind(kind).version("9.8.7").protocolVersion(protocolVersion)
                .workerThreads(64).build();
        server.start();
    }

    private static FirewallSchema.State firewallState() {
        return new FirewallSchema.State(
                List.of(new FirewallSchema.RuleData("tcp", 8080, null, null, Owner.of("deployment", "app-1"), null),
                        new FirewallSchema.RuleData("tcp", null, "9000-9009", null,
                                Owner.of("container", "member-1"), null)),
                List.of(new FirewallSchema.ForwardData("tcp", 2222, "10.0.3.5", 22, Owner.of("container", "member-1"))));
    }

    private static FirewallSchema.Status firewallStatus() {
        return new FirewallSchema.Status("hostdeploy", true, 2, 1, 14, 3, true, List.of(), List.of(22), null);
    }

    /** An agent that also serves {@code host.summary} or {@code firewall.summary}, as this build's agents do. */
    static TestAgent withSummaries(String kind, String managerFingerprint) throws InterruptedException {
        return new TestAgent(Identity.generate(kind), kind, managerFingerprint, 0, AgentServer.PROTOCOL_VERSION, true);
    }

    static TestAgent start(String kind, String managerFingerprint) throws InterruptedException {
        return new TestAgent(Identity.generate(kind), kind, managerFingerprint, 0);
    }

    /** An agent whose {@code info} reports another protocol version than this build's (an older or newer agent). */
    static TestAgent speakingProtocol(int protocolVersion, String kind, String managerFingerprint)
            throws InterruptedException {
        return new TestAgent(Identity.generate(kind), kind, managerFingerprint, 0, protocolVersion);
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
