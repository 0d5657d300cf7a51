package dev.hostdeploy.manager;

import dev.hostdeploy.manager.http.FailedAuthLimiter;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.protocol.Backoff;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/** Everything {@link Manager#start} needs; tests shorten the timings. */
public final class ManagerConfig {
    InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 8080);
    final Path identityDir;
    final Path dataDir;
    String mongoUri;
    String database = "hostdeploy";
    String bootstrapToken;
    String metricsToken;
    Duration statsTtl = Duration.ofSeconds(2);
    /**
     * How often each agent's round trip is measured (and at each connect). Not what keeps a connection
     * alive: the agents ping every 20 s and the JDK answers, and those pings keep {@code lastSeen} fresh.
     * At 1,000 hosts a 15 s heartbeat was 8,000 pings a minute, most of the Manager's idle CPU.
     */
    Duration pingInterval = Duration.ofSeconds(60);
    Duration agentTimeout = Duration.ofSeconds(30);
    Duration statsCallTimeout = Duration.ofSeconds(5);
    /** The most a {@code /stats} request waits for a round; null: derived from the call timeout. */
    Duration statsWait;
    FailedAuthLimiter limiter = FailedAuthLimiter.defaults();
    Backoff agentBackoff = Backoff.DEFAULT;
    Duration auditRetention = AuditLog.DEFAULT_RETENTION;
    List<String> allowedOrgs = List.of();
    List<String> allowedDomainSuffixes = List.of();
    String domainTls = "acme";
    Path webhookSecretFile;
    java.net.URI notifyUrl;
    int deployParallel = 4;
    Duration deployRecoveryWait = Duration.ofMinutes(15);
    Duration pollTick = Duration.ofSeconds(1);
    java.net.URI publicUrl;
    String githubClientId;
    Path githubClientSecretFile;
    String githubOrg;
    List<String> adminGithubLogins = List.of();
    java.net.URI githubUrl = java.net.URI.create("https://github.com");
    java.net.URI githubApiUrl = java.net.URI.create("https://api.github.com");
    Duration sessionTtl = Duration.ofHours(12);
    Duration statsInterval = Duration.ofSeconds(60);
    Duration statsRetention = Duration.ofDays(7);
    int sshPortMin = 22000;
    int sshPortMax = 22999;
    int maxContainersPerMember = 3;
    String memberDomainSuffix;
    String publishOnHost;
    int memberHttpPortMin = 23000;
    int memberHttpPortMax = 23999;
    int maxDomainsPerMember = 3;
    java.util.Map<String, dev.hostdeploy.manager.containers.ContainerSize> sizes =
            dev.hostdeploy.manager.containers.ContainerSize.DEFAULTS;
    String defaultImage;
    Duration memberGrace = Duration.ofDays(30);
    Duration githubOrgCheck = Duration.ofDays(1);
    Duration purgeEvery = Duration.ofHours(1);
    int containerParallel = 4;

    public ManagerConfig(Path identityDir, Path dataDir) {
        this.identityDir = Objects.requireNonNull(identityDir, "identityDir");
        this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
    }

    public ManagerConfig listen(InetSocketAddress listen) {
        this.listen = listen;
        return this;
    }

    public ManagerConfig mongoUri(String uri) {
        this.mongoUri = uri;
        return this;
    }

    public ManagerConfig database(String name) {
        this.database = name;
        return this;
    }

    public ManagerConfig bootstrapToken(String token) {
        this.bootstrapToken = token;
        return this;
    }

    public ManagerConfig metricsToken(String token) {
        this.metricsToken = token;
        return this;
    }

    public ManagerConfig statsTtl(Duration ttl) {
        this.statsTtl = ttl;
        return this;
    }

    public ManagerConfig pingInterval(Duration interval) {
        this.pingInterval = interval;
        return this;
    }

    public ManagerConfig agentTimeout(Duration timeout) {
        this.agentTimeout = timeout;
        return this;
    }

    public ManagerConfig statsCallTimeout(Duration timeout) {
        this.statsCallTimeout = timeout;
        return this;
    }

    /** The most a {@code /stats} request waits for a round before it is answered 503 (or with the last figures). */
    public ManagerConfig statsWait(Duration wait) {
        this.statsWait = wait;
        return this;
    }

    public ManagerConfig agentBackoff(Backoff backoff) {
        this.agentBackoff = backoff;
        return this;
    }

    /** How long audit entries are kept. */
    public ManagerConfig auditRetention(Duration retention) {
        this.auditRetention = retention;
        return this;
    }

    public ManagerConfig limiter(FailedAuthLimiter limiter) {
        this.limiter = limiter;
        return this;
    }

    /** The GitHub organisations whose repos may be deployed; none: no deployment can be created. */
    public ManagerConfig allowedOrgs(List<String> orgs) {
        this.allowedOrgs = List.copyOf(orgs);
        return this;
    }

    /** Where each finished deploy is POSTed (Slack or Discord incoming webhook); null: nowhere. */
    public ManagerConfig notifyUrl(java.net.URI url) {
        this.notifyUrl = url;
        return this;
    }

    public ManagerConfig webhookSecretFile(Path file) {
        this.webhookSecretFile = file;
        return this;
    }

    /** The address users reach the Manager at; null: http:// and the bound listen address. */
    public ManagerConfig publicUrl(java.net.URI url) {
        this.publicUrl = url;
        return this;
    }

    /** Sign-in with GitHub: the OAuth app's client id and the file holding its secret. */
    public ManagerConfig github(String clientId, Path clientSecretFile) {
        this.githubClientId = clientId;
        this.githubClientSecretFile = clientSecretFile;
        return this;
    }

    /** Only active members of this org may sign in with GitHub. */
    public ManagerConfig githubOrg(String org) {
        this.githubOrg = org;
        return this;
    }

    public ManagerConfig adminGithubLogins(List<String> logins) {
        this.adminGithubLogins = List.copyOf(logins);
        return this;
    }

    /** GitHub's web and API base URLs (GitHub Enterprise, or a stand-in in tests). */
    public ManagerConfig githubUrls(java.net.URI web, java.net.URI api) {
        this.githubUrl = web;
        this.githubApiUrl = api;
        return this;
    }

    public ManagerConfig sessionTtl(Duration ttl) {
        this.sessionTtl = ttl;
        return this;
    }

    /** How often each connected host's stats are sampled for the history, and how long samples are kept. */
    public ManagerConfig statsHistory(Duration interval, Duration retention) {
        this.statsInterval = interval;
        this.statsRetention = retention;
        return this;
    }

    /** How many deploys run at once overall. */
    public ManagerConfig deployParallel(int parallel) {
        this.deployParallel = parallel;
        return this;
    }

    /** Hostname suffixes non-admins may give a deployment's domains (admins may give any hostname). */
    public ManagerConfig allowedDomainSuffixes(List<String> suffixes) {
        this.allowedDomainSuffixes = List.copyOf(suffixes);
        return this;
    }

    /** How domains get their certificate unless they say: acme, internal (Caddy's local CA) or off. */
    public ManagerConfig domainTls(String tls) {
        this.domainTls = tls;
        return this;
    }

    /** The host ports members' containers' SSH is exposed on. */
    public ManagerConfig sshPortRange(int min, int max) {
        this.sshPortMin = min;
        this.sshPortMax = max;
        return this;
    }

    /**
     * Publishes the Manager's API and console at the (https) {@code --public-url} through the Caddy of
     * this host (id or name), which must be the Manager's own host; null: not published.
     */
    public ManagerConfig publishOnHost(String host) {
        this.publishOnHost = host;
        return this;
    }

    /** Members may route {@code NAME.SUFFIX} to a port of their container; null: they may not. */
    public ManagerConfig memberDomainSuffix(String suffix) {
        this.memberDomainSuffix = suffix;
        return this;
    }

    /** The loopback host ports members' container domains are forwarded through (one per domain and host). */
    public ManagerConfig memberHttpPortRange(int min, int max) {
        this.memberHttpPortMin = min;
        this.memberHttpPortMax = max;
        return this;
    }

    public ManagerConfig maxDomainsPerMember(int n) {
        this.maxDomainsPerMember = n;
        return this;
    }

    public ManagerConfig maxContainersPerMember(int n) {
        this.maxContainersPerMember = n;
        return this;
    }

    /** The sizes members choose from, by name; replaces the defaults. */
    public ManagerConfig sizes(java.util.List<dev.hostdeploy.manager.containers.ContainerSize> sizes) {
        java.util.Map<String, dev.hostdeploy.manager.containers.ContainerSize> m = new java.util.LinkedHashMap<>();
        sizes.forEach(s -> m.put(s.name(), s));
        this.sizes = m;
        return this;
    }

    /** The image a container gets when its request names none; null: the request must name one. */
    public ManagerConfig defaultImage(String alias) {
        this.defaultImage = alias;
        return this;
    }

    /** How long an offboarded member's containers are kept (stopped) before they are deleted. */
    /** How often the members who signed in through GitHub are checked to still be in the org. */
    public ManagerConfig githubOrgCheck(Duration every) {
        this.githubOrgCheck = every;
        return this;
    }

    public ManagerConfig memberGrace(Duration grace) {
        this.memberGrace = grace;
        return this;
    }

    /** How often containers past their grace period are looked for. */
    public ManagerConfig purgeEvery(Duration every) {
        this.purgeEvery = every;
        return this;
    }

    /** How many container operations run at once overall. */
    public ManagerConfig containerParallel(int parallel) {
        this.containerParallel = parallel;
        return this;
    }

    /** How long a deploy interrupted by a restart waits for its Worker to report the outcome. */
    public ManagerConfig deployRecoveryWait(Duration wait) {
        this.deployRecoveryWait = wait;
        return this;
    }
}
