package dev.hostdeploy.guardian;

import dev.hostdeploy.guardian.ingress.CaddyAdmin;
import dev.hostdeploy.guardian.ingress.CaddyConfig;
import dev.hostdeploy.guardian.ingress.Ingress;
import dev.hostdeploy.guardian.ingress.IngressCommands;
import dev.hostdeploy.guardian.nft.Nft;
import dev.hostdeploy.guardian.state.Rule;
import dev.hostdeploy.schema.firewall.PortRange;
import dev.hostdeploy.schema.firewall.Proto;
import dev.hostdeploy.schema.ingress.Upstream;
import dev.hostdeploy.guardian.nft.Table;
import dev.hostdeploy.guardian.state.StateStore;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A complete Guardian: the firewall, its command handlers and the protocol server. The CLI's
 * {@code run} uses it, and so can other modules' tests and the benchmark to start a real Guardian
 * in-process (with {@link Builder#nftCommand} pointing into a network namespace).
 */
public final class GuardianAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuardianAgent.class);
    /** The jar's version, as every component reports it in {@code info}. */
    public static final String VERSION = dev.hostdeploy.protocol.cli.Cli.version();
    private static final Pattern TABLE = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,31}");
    private static final Pattern IFACE = Pattern.compile("[A-Za-z0-9_.-]{1,15}\\*?");

    public static Builder builder(Identity identity, TrustPolicy trust, Path stateDir) {
        return new Builder(identity, trust, stateDir);
    }

    public static final class Builder {
        private final Identity identity;
        private final TrustPolicy trust;
        private final Path stateDir;
        private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
        private List<String> nftCommand = List.of("nft");
        private String table = "hostdeploy";
        private boolean defaultDrop;
        private boolean guardDocker;
        private List<String> dockerInterfaces = List.of("docker0", "br-*");
        private int sshPort = 22;
        private Duration checkInterval = Duration.ofSeconds(30);
        private int maxElements = 65536;
        private String caddyAdmin;
        private int httpPort = 80;
        private int httpsPort = 443;
        private String acmeEmail;
        private String acmeCa;
        private List<String> upstreamNetworks = Upstream.DEFAULT_NETWORKS;

        private Builder(Identity identity, TrustPolicy trust, Path stateDir) {
            this.identity = Objects.requireNonNull(identity);
            this.trust = Objects.requireNonNull(trust);
            this.stateDir = Objects.requireNonNull(stateDir);
        }

        public Builder listen(InetSocketAddress a) { this.listen = a; return this; }
        /** The nft command, e.g. {@code ["ip","netns","exec","ns1","nft"]}; default {@code ["nft"]}. */
        public Builder nftCommand(List<String> c) { this.nftCommand = List.copyOf(c); return this; }
        public Builder table(String t) { this.table = t; return this; }
        public Builder defaultDrop(boolean b) { this.defaultDrop = b; return this; }
        public Builder guardDocker(boolean b) { this.guardDocker = b; return this; }
        public Builder dockerInterfaces(List<String> l) { this.dockerInterfaces = List.copyOf(l); return this; }
        public Builder sshPort(int p) { this.sshPort = p; return this; }
        public Builder checkInterval(Duration d) { this.checkInterval = d; return this; }
        /** The size limit of each nft set (nft refuses a change that would exceed it). */
        public Builder maxElements(int n) { this.maxElements = n; return this; }
        /** Caddy's admin address, {@code HOST:PORT} or a unix socket path; null (the default) leaves ingress off. */
        public Builder caddyAdmin(String a) { this.caddyAdmin = a; return this; }
        public Builder httpPort(int p) { this.httpPort = p; return this; }
        public Builder httpsPort(int p) { this.httpsPort = p; return this; }
        public Builder acmeEmail(String e) { this.acmeEmail = e; return this; }
        /** The ACME directory URL, e.g. Let's Encrypt's staging one; null for Caddy's default. */
        public Builder acmeCa(String u) { this.acmeCa = u; return this; }
        /** The networks an upstream may be in (CIDRs); default loopback and the private container ranges. */
        public Builder upstreamNetworks(List<String> l) { this.upstreamNetworks = List.copyOf(l); return this; }

        public GuardianAgent build() {
            if (!TABLE.matcher(table).matches()) {
                throw new IllegalArgumentException("--table '" + table + "': use letters, digits, '_' and '-' (max 32)");
            }
            for (String i : dockerInterfaces) {
                if (!IFACE.matcher(i).matches()) {
                    throw new IllegalArgumentException("--docker-interface '" + i + "' is not an interface name");
                }
            }
            if (sshPort < 1 || sshPort > 65535) {
                throw new IllegalArgumentException("--ssh-port must be 1-65535");
            }
            if (checkInterval.isNegative() || checkInterval.isZero()) {
                throw new IllegalArgumentException("--check-interval must be positive");
            }
            if (maxElements < 1) {
                throw new IllegalArgumentException("--max-elements must be positive");
            }
            for (int p : List.of(httpPort, httpsPort)) {
                if (p < 1 || p > 65535) {
                    throw new IllegalArgumentException("--http-port and --https-port must be 1-65535");
                }
            }
            if (httpPort == httpsPort) {
                throw new IllegalArgumentException("--http-port and --https-port must differ");
            }
            if (acmeCa != null && !acmeCa.startsWith("https://")) {
                throw new IllegalArgumentException("--acme-ca must be an https:// ACME directory URL");
            }
            if (acmeEmail != null && !acmeEmail.matches("[^@\\s\"]+@[^@\\s\"]+")) {
                throw new IllegalArgumentException("--acme-email '" + acmeEmail + "' is not an email address");
            }
            try {
                Upstream.networks("--upstream-network", upstreamNetworks);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            return new GuardianAgent(this);
        }
    }

    private final Builder b;
    private final HandlerRegistry registry = new HandlerRegistry();
    private final AgentServer server;
    private final Firewall firewall;
    /** Null when ingress is off (no --caddy-admin). */
    private final Ingress ingress;
    private ScheduledExecutorService checker;

    private GuardianAgent(Builder b) {
        this.b = b;
        Table table = new Table(b.table, b.defaultDrop, b.guardDocker, b.dockerInterfaces, b.maxElements);
        this.server = AgentServer.builder(b.identity, b.trust, registry).listen(b.listen).kind("guardian")
                .version(VERSION).build();
        StateStore store = new StateStore(b.stateDir);
        this.firewall = new Firewall(table, new Nft(b.nftCommand), store, this::sendEvent);
        new FirewallCommands(firewall).register(registry);
        if (b.caddyAdmin != null) {
            CaddyAdmin caddy = new CaddyAdmin(b.caddyAdmin, Duration.ofSeconds(30));
            this.ingress = new Ingress(caddy, new CaddyConfig(caddy.listen(), b.httpPort, b.httpsPort, b.acmeEmail, b.acmeCa),
                    Upstream.networks("--upstream-network", b.upstreamNetworks), store, firewall, new Front());
        } else {
            this.ingress = null;
        }
        new IngressCommands(ingress).register(registry);
    }

    /** The ingress's ports, opened and closed through the firewall's own state like any opening. */
    private final class Front implements Ingress.Front {
        @Override
        public void open(List<Integer> tcpPorts, dev.hostdeploy.schema.Owner owner) throws IOException {
            for (int p : tcpPorts) {
                firewall.open(new Rule(Proto.TCP, PortRange.single(p), null, owner, null));
            }
        }

        @Override
        public void closeOwner(dev.hostdeploy.schema.Owner owner) throws IOException {
            firewall.closeOwner(owner);
        }

        @Override
        public void compact() {
            firewall.compact();
        }
    }

    private void sendEvent(Object data) {
        server.sendEvent(data);
    }

    /**
     * Starts serving, then restores the saved state into the kernel (repairing drift) and starts the
     * periodic drift check. Until the state is restored, commands are answered {@code unavailable}.
     */
    public void start() throws IOException, InterruptedException {
        server.start();
        List<Integer> protectedPorts = new ArrayList<>(List.of(b.sshPort));
        protectedPorts.add(server.port());
        firewall.start(protectedPorts);
        if (ingress != null) {
            ingress.start();
        }
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "guardian-drift-check");
            t.setDaemon(true);
            return t;
        });
        long ms = b.checkInterval.toMillis();
        checker.scheduleWithFixedDelay(this::check, ms, ms, TimeUnit.MILLISECONDS);
        LOG.info("guardian serving on port {}, table inet {}, protected tcp ports {}, ingress {}", server.port(), b.table,
                firewall.protectedTcp(), ingress == null ? "off" : "through Caddy at " + b.caddyAdmin);
    }

    private void check() {
        try {
            firewall.checkAndRepair();
        } catch (Exception e) {
            LOG.error("drift check failed: {}", e.toString());
        }
        if (ingress != null) {
            try {
                ingress.checkAndRepair();
            } catch (Exception e) {
                LOG.warn("ingress check: Caddy at {} does not answer: {}", b.caddyAdmin, e.toString());
            }
        }
    }

    public int port() {
        return server.port();
    }

    public AgentServer server() {
        return server;
    }

    public HandlerRegistry registry() {
        return registry;
    }

    /** Runs the drift check now (what the periodic check does); returns what was repaired. */
    public List<String> checkNow() throws IOException {
        List<String> repaired = new ArrayList<>(firewall.checkAndRepair());
        if (ingress != null) {
            repaired.addAll(ingress.checkAndRepair());
        }
        return repaired;
    }

    @Override
    public void close() {
        if (checker != null) {
            checker.shutdownNow();
        }
        server.close();
        firewall.close();
    }

    Firewall firewall() {
        return firewall;
    }
}
