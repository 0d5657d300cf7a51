package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.worker.HostSummaryCommand;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One real host for the Manager's end-to-end tests, in-process over mutual TLS on loopback: a Guardian
 * whose nft runs in a network namespace of its own (the machine's ruleset is never touched), optionally
 * driving a test's Caddy, and a Worker as WorkerRunCommand assembles it, with the deploy and LXC modules
 * the test asks for. Both trust only the Manager's identity, which outlives the Manager's restarts.
 */
final class RealHost implements AutoCloseable {
    /** The name {@link #register} gives the host. */
    static final String NAME = "lumi";

    final String ns;
    final Identity guardianKey = Identity.generate("guardian");
    final Identity workerKey = Identity.generate("worker");
    /** The Guardian's port, kept across its restarts so the Manager finds it again. */
    int guardianPort;
    /** The Worker's deploy root ({@code <root>/deploy}), when it has the deploy module. */
    Path deployRoot;
    DeployModule deploy;
    LxcModule lxc;
    GuardianAgent guardian;
    AgentServer worker;

    private final Path root;
    private final TrustPolicy managerTrust;
    private final CaddyFixture caddy;
    private final boolean lxcInfo;

    private RealHost(Builder b, TestManager m, Path root) {
        this.root = root;
        this.caddy = b.caddy;
        this.lxcInfo = b.lxcInfo;
        this.managerTrust = TrustPolicy.exactly(List.of(m.manager.identity().fingerprint()));
        this.ns = b.nsPrefix + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    }

    /** {@code nsPrefix} names the namespace (a few letters per test class, so a leftover tells whose it is). */
    static Builder builder(String nsPrefix) {
        return new Builder(nsPrefix);
    }

    static final class Builder {
        private final String nsPrefix;
        private DeployOptions deployOptions;
        private LxcOptions lxcOptions;
        private boolean lxcInfo = true;
        private CaddyFixture caddy;

        private Builder(String nsPrefix) {
            this.nsPrefix = nsPrefix;
        }

        /** The Worker gets the deploy module; its deploy root is set to {@code <root>/deploy}. */
        Builder deploy(DeployOptions options) {
            this.deployOptions = options;
            return this;
        }

        /** The Worker gets the LXC module and, unless {@link #lxcInfo} says no, sends its info (the allowed images). */
        Builder lxc(LxcOptions options) {
            this.lxcOptions = options;
            return this;
        }

        Builder lxcInfo(boolean send) {
            this.lxcInfo = send;
            return this;
        }

        /** The Guardian drives this Caddy. */
        Builder caddy(CaddyFixture fixture) {
            this.caddy = fixture;
            return this;
        }

        /** Makes the namespace and starts the Guardian and the Worker; the Guardian's state is {@code <root>/guardian-state}. */
        RealHost start(TestManager m, Path root) throws Exception {
            RealHost host = new RealHost(this, m, root);
            try {
                host.startAll(deployOptions, lxcOptions);
            } catch (Exception | Error e) {
                host.close();
                throw e;
            }
            return host;
        }
    }

    private void startAll(DeployOptions deployOptions, LxcOptions lxcOptions) throws Exception {
        run("ip", "netns", "add", ns);
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        startGuardian(root.resolve("guardian-state"));
        if (deployOptions != null) {
            deployRoot = Files.createDirectories(root.resolve("deploy"));
            deploy = DeployModule.create(deployOptions.deployRoot(deployRoot));
        }
        if (lxcOptions != null) {
            lxc = LxcModule.create(lxcOptions);
        }
        worker = startWorker(0);
    }

    /** Starts a Guardian on {@link #guardianPort} (any free port the first time) with the state in {@code state}. */
    void startGuardian(Path state) throws Exception {
        GuardianAgent.Builder b = GuardianAgent.builder(guardianKey, managerTrust, state)
                .listen(new InetSocketAddress("127.0.0.1", guardianPort))
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft"));
        if (caddy != null) {
            b.caddyAdmin(caddy.admin()).httpPort(caddy.httpPort).httpsPort(caddy.httpsPort);
        }
        guardian = b.build();
        guardian.start();
        guardianPort = guardian.port();
    }

    /** Stops the Guardian; nft's table stays in force, as when the real one stops. */
    void stopGuardian() {
        if (guardian != null) {
            guardian.close();
            guardian = null;
        }
    }

    /** A new Worker on the same port with the same modules, as after a Worker restart. */
    void restartWorker() throws Exception {
        int port = worker.port();
        worker.close();
        worker = startWorker(port);
    }

    private AgentServer startWorker(int port) throws Exception {
        HandlerRegistry registry = new HandlerRegistry();
        if (deploy != null) {
            // The deploy module also answers host.stats (free memory, for placement).
            deploy.register(registry);
        }
        if (lxc != null) {
            lxc.register(registry);
        }
        if (deploy != null && lxc != null) {
            HostSummaryCommand.register(registry, deploy, lxc);
        }
        AgentServer.Builder b = AgentServer.builder(workerKey, managerTrust, registry)
                .listen(new InetSocketAddress("127.0.0.1", port)).kind("worker").version(Cli.version());
        if (lxc != null && lxcInfo) {
            // The allowed images go out in info, which placement reads.
            b.details(lxc::info);
        }
        AgentServer w = b.build();
        w.start();
        return w;
    }

    /** Adds the host {@link #NAME} to the Manager; its id. Does not wait for the agents. */
    String add(TestManager m) {
        var r = m.admin("POST", "/hosts", Map.of("name", NAME,
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", workerKey.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardianPort, "fingerprint", guardianKey.fingerprint())));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    /** Adds the host {@link #NAME} and waits until the Manager has connected to both agents; its id. */
    String register(TestManager m) {
        String id = add(m);
        // As long as the slowest test waited before: the agents connect in a second or two, but a busy machine is slow.
        await("both agents connected").atMost(Duration.ofSeconds(120)).until(() -> {
            JsonNode h = m.admin("GET", "/hosts/" + id, null).json();
            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
        });
        return id;
    }

    /** Runs {@code nft} in the namespace; its output. */
    String nft(String... args) {
        String[] cmd = new String[args.length + 5];
        System.arraycopy(new String[] {"ip", "netns", "exec", ns, "nft"}, 0, cmd, 0, 5);
        System.arraycopy(args, 0, cmd, 5, args.length);
        return run(cmd);
    }

    /** Stops the Worker, its modules and the Guardian, and removes the namespace with whatever still runs in it. */
    @Override
    public void close() {
        if (worker != null) {
            worker.close();
        }
        if (lxc != null) {
            lxc.close();
        }
        if (deploy != null) {
            deploy.close();
        }
        stopGuardian();
        quietly(() -> run("ip", "netns", "pids", ns).lines().forEach(pid -> quietly(() -> run("kill", "-9", pid.strip()))));
        quietly(() -> run("ip", "netns", "del", ns));
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // cleanup: what is already gone stays gone
        }
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
