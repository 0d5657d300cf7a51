package dev.hostdeploy.manager;

import com.mongodb.ConnectionString;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.containers.ContainerRoutes;
import dev.hostdeploy.manager.containers.ContainerService;
import dev.hostdeploy.manager.containers.ContainerSettings;
import dev.hostdeploy.manager.containers.Containers;
import dev.hostdeploy.manager.containers.DomainSettings;
import dev.hostdeploy.manager.deployments.DeployMetrics;
import dev.hostdeploy.manager.deployments.DeployNotifier;
import dev.hostdeploy.manager.deployments.DeploymentRoutes;
import dev.hostdeploy.manager.deployments.DeploymentService;
import dev.hostdeploy.manager.deployments.Deployments;
import dev.hostdeploy.manager.deployments.FirewallReconciler;
import dev.hostdeploy.manager.agents.GuardianListener;
import dev.hostdeploy.manager.ingress.Domains;
import dev.hostdeploy.manager.ingress.IngressRoutes;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.deployments.SecretBox;
import dev.hostdeploy.manager.hosts.HostRoutes;
import dev.hostdeploy.manager.hosts.HostService;
import dev.hostdeploy.manager.hosts.Hosts;
import dev.hostdeploy.manager.http.Health;
import dev.hostdeploy.manager.http.HttpApi;
import dev.hostdeploy.manager.http.Metrics;
import dev.hostdeploy.manager.invites.InviteRoutes;
import dev.hostdeploy.manager.invites.InviteService;
import dev.hostdeploy.manager.invites.Invites;
import dev.hostdeploy.manager.jobs.Deploys;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.manager.sessions.SessionService;
import dev.hostdeploy.manager.sessions.Sessions;
import dev.hostdeploy.manager.signin.GithubOrgCheck;
import dev.hostdeploy.manager.signin.GithubSignIn;
import dev.hostdeploy.manager.signin.SignInRoutes;
import dev.hostdeploy.manager.stats.Records;
import dev.hostdeploy.manager.stats.StatsHistory;
import dev.hostdeploy.manager.stats.StatsRoutes;
import dev.hostdeploy.manager.stats.StatsService;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.users.UserRoutes;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.manager.users.Users;
import dev.hostdeploy.manager.webhooks.GithubWebhookRoutes;
import dev.hostdeploy.manager.webhooks.WebhookSignature;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.schema.deploy.Rules;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Manager: the shared infrastructure (store, agent connections, HTTP) and the features built
 * on it. Options are checked and the port is bound before anything is written to disk, so a mistake
 * leaves no half-made data directory behind.
 */
public final class Manager implements AutoCloseable {
    public static final String ADMIN_TOKEN_FILE = UserService.ADMIN_TOKEN_FILE;
    private static final Logger LOG = LoggerFactory.getLogger(Manager.class);

    private final Identity identity;
    private final Store store;
    private final AgentRegistry agents;
    private final Records records;
    private final Health health;
    private final Metrics metrics;
    private final HttpApi http;
    private final DeploymentService deployments;
    private FirewallReconciler reconciler;
    private UserService users;
    private StatsService stats;
    private SessionService sessions;
    private StatsHistory statsHistory;
    private ContainerService containers;
    private GithubOrgCheck githubOrgCheck;

    private Manager(Identity identity, Store store, AgentRegistry agents, Records records, Health health,
                    Metrics metrics, HttpApi http, DeploymentService deployments) {
        this.deployments = deployments;
        this.identity = identity;
        this.store = store;
        this.agents = agents;
        this.records = records;
        this.health = health;
        this.metrics = metrics;
        this.http = http;
    }

    public static Manager start(ManagerConfig config) throws IOException {
        check(config);
        WebhookSignature webhookSignature = WebhookSignature.fromFile(config.webhookSecretFile);
        DeployNotifier notifier = config.notifyUrl == null ? null : new DeployNotifier(config.notifyUrl);
        ServerSocketChannel socket = bind(config.listen);
        List<AutoCloseable> opened = new ArrayList<>();
        opened.add(socket);
        try {
            Identity identity = Identity.loadOrCreate(config.identityDir, "hostdeploy-manager");
            if (!Files.exists(config.dataDir)) {
                // The data directory holds the admin token and, embedded, the database: private to the owner.
                Files.createDirectories(config.dataDir,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Store store = Store.open(config.mongoUri, config.database, config.dataDir);
            opened.add(store);
            store.audit().start(config.auditRetention);
            opened.add(store.audit());
            UserService users = new UserService(new Users(store.database()), store.audit());
            users.bootstrap(config.dataDir, config.bootstrapToken);
            AgentRegistry agents = new AgentRegistry(identity, config.agentTimeout, config.pingInterval,
                    config.agentBackoff, store.audit());
            opened.add(agents);
            // Before any agent connects, so the first connect of each Guardian is reconciled too.
            Deployments deploymentSpecs = new Deployments(store.database());
            JobRunner jobs = new JobRunner(config.deployParallel);
            FirewallReconciler reconciler = new FirewallReconciler(store.database(), deploymentSpecs, jobs, agents);
            opened.add(reconciler);
            IngressService ingress = new IngressService(new Domains(store.database()), agents,
                    config.allowedDomainSuffixes, config.domainTls);
            opened.add(ingress);
            ingress.publishManager(config.publishOnHost, config.publicUrl, loopbackUpstream(config, socket));
            agents.guardianListener(GuardianListener.all(reconciler, ingress));
            Records records = new Records(store.database());
            StatsService stats = new StatsService(agents, records, config.statsTtl, config.statsCallTimeout,
                    config.statsWait);
            StatsHistory statsHistory = new StatsHistory(store.database(), agents, config.statsInterval,
                    config.statsRetention, config.statsCallTimeout);
            opened.add(statsHistory);
            HostService hosts = new HostService(new Hosts(store.database()), agents, stats);
            hosts.connectAll();
            Health health = new Health(store.database(), agents);
            opened.add(health);
            Metrics metrics = new Metrics();
            opened.add(metrics);
            metrics.beforeScrape(agents.bindMetrics(metrics.registry()));
            metrics.beforeScrape(stats.bindMetrics(metrics.registry()));
            // One AES-GCM key (0600 in the data directory) seals deployments' secrets and users' GitHub tokens.
            SecretBox secrets = SecretBox.open(config.dataDir);
            DeploymentService deployments = new DeploymentService(deploymentSpecs,
                    new Deploys(store.database()), jobs, secrets,
                    agents, hosts, config.allowedOrgs, config.deployRecoveryWait, ingress);
            opened.add(deployments);
            if (notifier != null) {
                deployments.onFinished(notifier);
            }
            DeployMetrics deployMetrics = new DeployMetrics(metrics.registry(), deploymentSpecs);
            deployments.onFinished(deployMetrics);
            metrics.beforeScrape(deployMetrics::refresh);
            ContainerService containers = new ContainerService(new Containers(store.database()), users, hosts, agents,
                    new JobRunner(config.containerParallel), store.audit(), containerSettings(config));
            opened.add(containers);
            containers.domains(ingress, domainSettings(config));
            reconciler.addSource(containers.firewallRules());
            Deploys history = new Deploys(store.database());
            stats.managed(() -> java.util.Map.of("deployments", deploymentSpecs.countByState(),
                    "deploys", history.countByResult(), "containers", containers.report()));
            deployments.recoverInterrupted();
            containers.recoverInterrupted();
            containers.start();
            deployments.startPolling(config.pollTick);
            java.net.URI publicUrl = publicUrl(config, socket);
            boolean secure = "https".equalsIgnoreCase(publicUrl.getScheme());
            SessionService sessions = new SessionService(new Sessions(store.database()), users, config.sessionTtl, secure);
            opened.add(sessions);
            // Sessions end with the tokens, before any other offboarding step.
            users.onMemberRemoved("sessions", sessions::endAllFor);
            // Stops the member's containers and closes their ports as a job; deleted after the grace period.
            users.onMemberRemoved("containers", containers::offboard);
            GithubSignIn.Settings githubSettings = config.githubClientId == null ? null : new GithubSignIn.Settings(
                    config.githubUrl, config.githubApiUrl, config.githubClientId,
                    Files.readString(config.githubClientSecretFile).trim(), config.githubOrg,
                    java.util.Set.copyOf(config.adminGithubLogins), publicUrl);
            GithubSignIn github = githubSettings == null ? null
                    : new GithubSignIn(githubSettings, store.database(), users.users(), secrets);
            // Members who signed in through GitHub and left the org lose access (checked daily by default).
            GithubOrgCheck orgCheck = githubSettings == null || config.githubOrg == null ? null
                    : new GithubOrgCheck(githubSettings, store.database(), users, secrets, config.githubOrgCheck);
            if (orgCheck != null) {
                opened.add(orgCheck);
            }
            HttpApi http = new HttpApi(users::authenticate, sessions, config.limiter, config.metricsToken, health, metrics,
                    store.audit(), Cli.version(),
                    List.of(new UserRoutes(users), new SignInRoutes(sessions, users, github, store.audit(), secure,
                                    config.limiter, publicUrl),
                            new HostRoutes(hosts), new StatsRoutes(stats, statsHistory),
                            new DeploymentRoutes(deployments), new IngressRoutes(ingress),
                            new ContainerRoutes(containers),
                            new InviteRoutes(new InviteService(new Invites(store.database()), users), config.limiter,
                                    store.audit()),
                            new GithubWebhookRoutes(webhookSignature, store.database(), deployments, metrics.registry())),
                    socket);
            http.start();
            statsHistory.start();
            if (orgCheck != null) {
                orgCheck.start();
            }
            LOG.info("Manager {} listening on {}:{}, identity {}", Cli.version(), config.listen.getHostString(),
                    http.port(), identity.fingerprint());
            Manager manager = new Manager(identity, store, agents, records, health, metrics, http, deployments);
            manager.reconciler = reconciler;
            manager.users = users;
            manager.stats = stats;
            manager.sessions = sessions;
            manager.statsHistory = statsHistory;
            manager.containers = containers;
            manager.githubOrgCheck = orgCheck;
            return manager;
        } catch (RuntimeException | IOException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    static ContainerSettings containerSettings(ManagerConfig config) {
        return new ContainerSettings(config.sshPortMin, config.sshPortMax, config.maxContainersPerMember,
                config.sizes, config.defaultImage, config.memberGrace, config.deployRecoveryWait, config.purgeEvery);
    }

    static DomainSettings domainSettings(ManagerConfig config) {
        return new DomainSettings(config.memberDomainSuffix, config.memberHttpPortMin,
                config.memberHttpPortMax, config.maxDomainsPerMember);
    }

    /** Everything that can be checked without touching the disk. */
    static void check(ManagerConfig config) {
        containerSettings(config);
        domainSettings(config);
        UserService.checkBootstrapToken(config.bootstrapToken);
        for (String org : config.allowedOrgs) {
            if (org == null || !Rules.ORG.matcher(org).matches()) {
                throw new IllegalArgumentException("--allowed-org " + org + " is not a valid GitHub organisation");
            }
        }
        for (String suffix : config.allowedDomainSuffixes) {
            try {
                dev.hostdeploy.schema.ingress.Hostname.parse("--allowed-domain-suffix",
                        suffix.startsWith(".") ? suffix.substring(1) : suffix);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
        try {
            dev.hostdeploy.schema.ingress.IngressSchema.Tls.parse("--domain-tls", config.domainTls);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        if (config.deployParallel < 1 || config.deployParallel > 64) {
            throw new IllegalArgumentException("--deploy-parallel must be 1-64");
        }
        if (config.githubClientId != null) {
            if (config.githubClientSecretFile == null || !Files.isReadable(config.githubClientSecretFile)) {
                throw new IllegalArgumentException("--github-client-id needs a readable --github-client-secret-file");
            }
            if (config.githubOrg == null && config.adminGithubLogins.isEmpty()) {
                throw new IllegalArgumentException("--github-client-id needs --github-org (and/or --admin-github-login)");
            }
        }
        if (config.githubOrgCheck.toMinutes() < 1) {
            throw new IllegalArgumentException("--github-org-check must be at least 1m");
        }
        if (config.githubOrg != null && !Rules.ORG.matcher(config.githubOrg).matches()) {
            throw new IllegalArgumentException("--github-org " + config.githubOrg + " is not a valid GitHub organisation");
        }
        if (config.publishOnHost != null && (config.publicUrl == null
                || !"https".equals(config.publicUrl.getScheme()))) {
            throw new IllegalArgumentException("--publish-on-host needs an https --public-url (the hostname Caddy serves "
                    + "the Manager at)");
        }
        if (config.publicUrl != null && (config.publicUrl.getHost() == null
                || !(config.publicUrl.getScheme().equals("http") || config.publicUrl.getScheme().equals("https")))) {
            throw new IllegalArgumentException("--public-url must be an http:// or https:// URL");
        }
        if (config.mongoUri != null && !config.mongoUri.isBlank()) {
            new ConnectionString(config.mongoUri);
        }
    }

    /** The configured public URL, or the address actually bound (port 0 resolved). */
    /** The Manager's listen address as a Caddy on the same host dials it (loopback for a wildcard address). */
    private static String loopbackUpstream(ManagerConfig config, ServerSocketChannel socket) throws IOException {
        InetSocketAddress bound = (InetSocketAddress) socket.getLocalAddress();
        String host = config.listen.getHostString();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("localhost")) {
            host = "127.0.0.1";
        }
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort();
    }

    private static java.net.URI publicUrl(ManagerConfig config, ServerSocketChannel socket) throws IOException {
        if (config.publicUrl != null) {
            return config.publicUrl;
        }
        InetSocketAddress bound = (InetSocketAddress) socket.getLocalAddress();
        String host = config.listen.getHostString();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            host = "127.0.0.1";
        }
        return java.net.URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort());
    }

    private static ServerSocketChannel bind(InetSocketAddress listen) throws IOException {
        ServerSocketChannel socket = ServerSocketChannel.open();
        try {
            socket.bind(listen, 1024);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen on " + listen.getHostString() + ":" + listen.getPort() + ": "
                    + e.getMessage(), e);
        }
    }

    public int port() {
        return http.port();
    }

    public Identity identity() {
        return identity;
    }

    public HttpApi http() {
        return http;
    }

    public Store store() {
        return store;
    }

    public Records records() {
        return records;
    }

    public FirewallReconciler firewallReconciler() {
        return reconciler;
    }

    public StatsHistory statsHistory() {
        return statsHistory;
    }

    public ContainerService containers() {
        return containers;
    }

    public AgentRegistry agents() {
        return agents;
    }

    public StatsService stats() {
        return stats;
    }

    /** The GitHub org check; null unless GitHub sign-in with --github-org is configured. */
    public GithubOrgCheck githubOrgCheck() {
        return githubOrgCheck;
    }

    /** Users and their offboarding hook ({@link UserService#onMemberRemoved}). */
    public UserService users() {
        return users;
    }

    @Override
    public void close() {
        http.close();
        if (githubOrgCheck != null) {
            githubOrgCheck.close();
        }
        // Before the agents: a deploy cut short by the stop stays recorded as running, for the next start.
        deployments.close();
        containers.close();
        agents.close();
        reconciler.close();
        health.close();
        metrics.close();
        sessions.close();
        statsHistory.close();
        store.audit().close();
        store.close();
    }
}
