package dev.hostdeploy.manager;

import dev.hostdeploy.protocol.cli.HostPortConverter;
import dev.hostdeploy.protocol.cli.Shutdown;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code serve}: every option can also come from a HOSTDEPLOY_* environment variable, as a container wants. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the Manager: REST API, MongoDB state and connections to every registered agent.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "${env:HOSTDEPLOY_LISTEN:-127.0.0.1:8080}",
            converter = HostPortConverter.class,
            description = "REST API address (env HOSTDEPLOY_LISTEN, default ${DEFAULT-VALUE})")
    InetSocketAddress listen;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "${env:HOSTDEPLOY_DIR}",
            description = "Identity directory: the Manager's key and certificate (env HOSTDEPLOY_DIR)")
    Path dir;

    @Mixin
    StoreOptions store = new StoreOptions();

    @Option(names = "--stats-ttl", paramLabel = "SECONDS", defaultValue = "${env:HOSTDEPLOY_STATS_TTL:-2}",
            description = "How long gathered stats are served from cache (env HOSTDEPLOY_STATS_TTL, default ${DEFAULT-VALUE})")
    int statsTtl;

    @Option(names = "--audit-retention-days", paramLabel = "DAYS",
            defaultValue = "${env:HOSTDEPLOY_AUDIT_RETENTION_DAYS:-90}",
            description = "How long audit entries are kept (env HOSTDEPLOY_AUDIT_RETENTION_DAYS, default ${DEFAULT-VALUE})")
    int auditRetentionDays;
    @Option(names = "--allowed-org", paramLabel = "ORG", split = ",",
            defaultValue = "${env:HOSTDEPLOY_ALLOWED_ORG}",
            description = "A GitHub organisation whose repos may be deployed; repeatable (env HOSTDEPLOY_ALLOWED_ORG, "
                    + "comma-separated)")
    List<String> allowedOrgs;

    @Option(names = "--allowed-domain-suffix", split = ",", paramLabel = "SUFFIX",
            description = "A hostname suffix (e.g. apps.example.org) under which non-admins may name a deployment's "
                    + "domains; repeatable. Admins may give any hostname")
    List<String> allowedDomainSuffixes;

    @Option(names = "--domain-tls", defaultValue = "acme", paramLabel = "acme|internal|off",
            description = "How a domain gets its certificate unless it says: acme, internal (Caddy's local CA) or off "
                    + "(default: ${DEFAULT-VALUE})")
    String domainTls;

    @Option(names = "--webhook-secret-file", paramLabel = "FILE", defaultValue = "${env:HOSTDEPLOY_WEBHOOK_SECRET_FILE}",
            description = "The GitHub webhook secret, for X-Hub-Signature-256; without it every webhook is refused "
                    + "(env HOSTDEPLOY_WEBHOOK_SECRET_FILE)")
    Path webhookSecretFile;

    @Option(names = "--notify-url", paramLabel = "URL", defaultValue = "${env:HOSTDEPLOY_NOTIFY_URL}",
            description = "POST each finished deploy here as JSON a Slack or Discord incoming webhook accepts "
                    + "(env HOSTDEPLOY_NOTIFY_URL)")
    java.net.URI notifyUrl;

    @Option(names = "--deploy-parallel", paramLabel = "N", defaultValue = "${env:HOSTDEPLOY_DEPLOY_PARALLEL:-4}",
            description = "Deploys running at once overall (env HOSTDEPLOY_DEPLOY_PARALLEL, default ${DEFAULT-VALUE})")
    int deployParallel;

    @Option(names = "--log-dir", paramLabel = "DIR", defaultValue = "${env:HOSTDEPLOY_LOG_DIR}",
            description = "Also log to a rotated file DIR/manager.log (daily and at 10 MB, 14 days kept); stdout "
                    + "gets every line either way (env HOSTDEPLOY_LOG_DIR)")
    Path logDir;

    @Option(names = "--public-url", paramLabel = "URL", defaultValue = "${env:HOSTDEPLOY_PUBLIC_URL}",
            description = "The address users reach the Manager at: builds the GitHub callback, makes the session cookie "
                    + "Secure when https (env HOSTDEPLOY_PUBLIC_URL, default http:// and --listen)")
    java.net.URI publicUrl;

    @Option(names = "--github-client-id", paramLabel = "ID", defaultValue = "${env:HOSTDEPLOY_GITHUB_CLIENT_ID}",
            description = "The GitHub OAuth app's client id; enables \"Sign in with GitHub\" (env HOSTDEPLOY_GITHUB_CLIENT_ID)")
    String githubClientId;

    @Option(names = "--github-client-secret-file", paramLabel = "FILE",
            defaultValue = "${env:HOSTDEPLOY_GITHUB_CLIENT_SECRET_FILE}",
            description = "File holding the OAuth app's client secret (env HOSTDEPLOY_GITHUB_CLIENT_SECRET_FILE)")
    Path githubClientSecretFile;

    @Option(names = "--github-org", paramLabel = "ORG", defaultValue = "${env:HOSTDEPLOY_GITHUB_ORG}",
            description = "Only active members of this GitHub organisation may sign in (env HOSTDEPLOY_GITHUB_ORG)")
    String githubOrg;

    @Option(names = "--admin-github-login", paramLabel = "LOGIN", split = ",",
            defaultValue = "${env:HOSTDEPLOY_ADMIN_GITHUB_LOGIN}",
            description = "A GitHub login that signs in as admin, pinned to its GitHub user id at first sign-in; "
                    + "repeatable (env HOSTDEPLOY_ADMIN_GITHUB_LOGIN, comma-separated)")
    List<String> adminGithubLogins;

    @Option(names = "--github-url", paramLabel = "URL", defaultValue = "${env:HOSTDEPLOY_GITHUB_URL:-https://github.com}",
            description = "GitHub's web address, for GitHub Enterprise (env HOSTDEPLOY_GITHUB_URL, default ${DEFAULT-VALUE})")
    java.net.URI githubUrl;

    @Option(names = "--github-api-url", paramLabel = "URL",
            defaultValue = "${env:HOSTDEPLOY_GITHUB_API_URL:-https://api.github.com}",
            description = "GitHub's API address (env HOSTDEPLOY_GITHUB_API_URL, default ${DEFAULT-VALUE})")
    java.net.URI githubApiUrl;

    @Option(names = "--github-org-check", paramLabel = "DURATION",
            defaultValue = "${env:HOSTDEPLOY_GITHUB_ORG_CHECK:-24h}", converter = DurationConverter.class,
            description = "How often users who signed in through GitHub are checked to still be active members of "
                    + "--github-org; those who left are offboarded (env HOSTDEPLOY_GITHUB_ORG_CHECK, default ${DEFAULT-VALUE})")
    Duration githubOrgCheck;

    @Option(names = "--session-hours", paramLabel = "HOURS", defaultValue = "${env:HOSTDEPLOY_SESSION_HOURS:-12}",
            description = "How long a browser session lasts (env HOSTDEPLOY_SESSION_HOURS, default ${DEFAULT-VALUE})")
    int sessionHours;

    @Option(names = "--stats-interval", paramLabel = "DURATION", defaultValue = "${env:HOSTDEPLOY_STATS_INTERVAL:-60s}",
            converter = DurationConverter.class,
            description = "How often each connected host's stats are sampled for the history "
                    + "(env HOSTDEPLOY_STATS_INTERVAL, default ${DEFAULT-VALUE})")
    Duration statsInterval;

    @Option(names = "--stats-retention", paramLabel = "DURATION", defaultValue = "${env:HOSTDEPLOY_STATS_RETENTION:-7d}",
            converter = DurationConverter.class,
            description = "How long stats samples are kept (env HOSTDEPLOY_STATS_RETENTION, default ${DEFAULT-VALUE})")
    Duration statsRetention;

    /** {@code 60s}, {@code 15m}, {@code 2h}, {@code 7d}. */
    static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})([smhd])").matcher(value.trim());
            if (!m.matches()) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a duration like 60s, 15m, 2h or 7d");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
    }

    @Option(names = "--ssh-port-range", paramLabel = "LOW-HIGH", defaultValue = "${env:HOSTDEPLOY_SSH_PORT_RANGE:-22000-22999}",
            description = "Host ports for members' container SSH (env HOSTDEPLOY_SSH_PORT_RANGE, default ${DEFAULT-VALUE})")
    String sshPortRange;

    @Option(names = "--publish-on-host", paramLabel = "HOST", defaultValue = "${env:HOSTDEPLOY_PUBLISH_ON_HOST}",
            description = "Publish the Manager's API and console at the https --public-url through the Caddy of this "
                    + "registered host (name or id), which must be the Manager's own host: its Guardian routes the "
                    + "URL's hostname to the Manager's listen address (env HOSTDEPLOY_PUBLISH_ON_HOST)")
    String publishOnHost;

    @Option(names = "--member-domain-suffix", paramLabel = "SUFFIX", defaultValue = "${env:HOSTDEPLOY_MEMBER_DOMAIN_SUFFIX}",
            description = "Members may route NAME.SUFFIX to a port of their container (POST /api/v1/containers/{id}/"
                    + "domains); without it they may not (env HOSTDEPLOY_MEMBER_DOMAIN_SUFFIX)")
    String memberDomainSuffix;

    @Option(names = "--member-http-port-range", paramLabel = "LOW-HIGH",
            defaultValue = "${env:HOSTDEPLOY_MEMBER_HTTP_PORT_RANGE:-23000-23999}",
            description = "Loopback host ports members' container domains are forwarded through, one per domain "
                    + "(env HOSTDEPLOY_MEMBER_HTTP_PORT_RANGE, default ${DEFAULT-VALUE})")
    String memberHttpPortRange;

    @Option(names = "--max-domains-per-member", paramLabel = "N",
            defaultValue = "${env:HOSTDEPLOY_MAX_DOMAINS_PER_MEMBER:-3}",
            description = "Container domains a member may have unless an admin overrides it (default ${DEFAULT-VALUE})")
    int maxDomainsPerMember;

    @Option(names = "--max-containers-per-member", paramLabel = "N",
            defaultValue = "${env:HOSTDEPLOY_MAX_CONTAINERS_PER_MEMBER:-3}",
            description = "Containers a member may have unless an admin overrides it (default ${DEFAULT-VALUE})")
    int maxContainersPerMember;

    @Option(names = "--size", paramLabel = "NAME=Ncpu,MEM,DISK",
            description = "A container size members choose by name, e.g. small=1cpu,512MiB,8GiB; repeatable, replaces "
                    + "the defaults small=1cpu,512MiB,8GiB medium=2cpu,2GiB,20GiB large=4cpu,8GiB,50GiB")
    List<String> sizes;

    @Option(names = "--default-image", paramLabel = "ALIAS", defaultValue = "${env:HOSTDEPLOY_DEFAULT_IMAGE}",
            description = "The image of a container whose request names none (env HOSTDEPLOY_DEFAULT_IMAGE)")
    String defaultImage;

    @Option(names = "--member-grace-days", paramLabel = "DAYS", defaultValue = "${env:HOSTDEPLOY_MEMBER_GRACE_DAYS:-30}",
            description = "Days a departed member's stopped containers are kept before deletion (default ${DEFAULT-VALUE})")
    int memberGraceDays;

    @Override
    public Integer call() throws Exception {
        if (logDir != null) {
            dev.hostdeploy.protocol.cli.LogFiles.start(logDir, "manager");
        }
        if (dir == null) {
            throw new IllegalArgumentException("--dir (or HOSTDEPLOY_DIR) is required");
        }
        if (store.dataDir == null) {
            throw new IllegalArgumentException("--data-dir (or HOSTDEPLOY_DATA_DIR) is required");
        }
        if (statsTtl < 0 || statsTtl > 3600) {
            throw new IllegalArgumentException("--stats-ttl must be 0-3600 seconds");
        }
        if (auditRetentionDays < 1 || auditRetentionDays > 36_500) {
            throw new IllegalArgumentException("--audit-retention-days must be 1-36500");
        }
        if (sessionHours < 1 || sessionHours > 24 * 90) {
            throw new IllegalArgumentException("--session-hours must be 1-2160");
        }
        if (statsInterval.toSeconds() < 1 || statsRetention.compareTo(statsInterval) <= 0) {
            throw new IllegalArgumentException("--stats-interval must be at least 1s and shorter than --stats-retention");
        }
        java.util.regex.Matcher range = java.util.regex.Pattern.compile("(\\d{1,5})-(\\d{1,5})").matcher(sshPortRange);
        if (!range.matches()) {
            throw new IllegalArgumentException("--ssh-port-range must be LOW-HIGH, e.g. 22000-22999");
        }
        java.util.regex.Matcher httpRange = java.util.regex.Pattern.compile("(\\d{1,5})-(\\d{1,5})")
                .matcher(memberHttpPortRange);
        if (!httpRange.matches()) {
            throw new IllegalArgumentException("--member-http-port-range must be LOW-HIGH, e.g. 23000-23999");
        }
        if (memberGraceDays < 0 || memberGraceDays > 36_500) {
            throw new IllegalArgumentException("--member-grace-days must be 0-36500");
        }
        ManagerConfig config = new ManagerConfig(dir, store.dataDir)
                .sshPortRange(Integer.parseInt(range.group(1)), Integer.parseInt(range.group(2)))
                .maxContainersPerMember(maxContainersPerMember)
                .memberDomainSuffix(memberDomainSuffix == null || memberDomainSuffix.isBlank() ? null : memberDomainSuffix)
                .memberHttpPortRange(Integer.parseInt(httpRange.group(1)), Integer.parseInt(httpRange.group(2)))
                .maxDomainsPerMember(maxDomainsPerMember)
                .publishOnHost(publishOnHost == null || publishOnHost.isBlank() ? null : publishOnHost)
                .defaultImage(defaultImage == null || defaultImage.isBlank() ? null : defaultImage)
                .memberGrace(Duration.ofDays(memberGraceDays))
                .listen(listen)
                .mongoUri(store.mongoUri)
                .database(store.database)
                // Secrets come only from the environment, never from the command line (visible in ps).
                .bootstrapToken(System.getenv("HOSTDEPLOY_BOOTSTRAP_TOKEN"))
                .metricsToken(System.getenv("HOSTDEPLOY_METRICS_TOKEN"))
                .statsTtl(Duration.ofSeconds(statsTtl))
                .auditRetention(Duration.ofDays(auditRetentionDays))
                .allowedOrgs(allowedOrgs == null ? List.of() : allowedOrgs.stream().filter(o -> !o.isBlank()).toList())
                .allowedDomainSuffixes(allowedDomainSuffixes == null ? List.of()
                        : allowedDomainSuffixes.stream().filter(o -> !o.isBlank()).toList())
                .domainTls(domainTls)
                .webhookSecretFile(webhookSecretFile)
                .notifyUrl(notifyUrl)
                .deployParallel(deployParallel)
                .publicUrl(publicUrl)
                .github(githubClientId == null || githubClientId.isBlank() ? null : githubClientId, githubClientSecretFile)
                .githubOrg(githubOrg == null || githubOrg.isBlank() ? null : githubOrg)
                .adminGithubLogins(adminGithubLogins == null ? List.of()
                        : adminGithubLogins.stream().filter(l -> !l.isBlank()).toList())
                .githubUrls(githubUrl, githubApiUrl)
                .githubOrgCheck(githubOrgCheck)
                .sessionTtl(Duration.ofHours(sessionHours))
                .statsHistory(statsInterval, statsRetention);
        if (sizes != null && !sizes.isEmpty()) {
            config.sizes(sizes.stream().map(dev.hostdeploy.manager.containers.ContainerSize::parse).toList());
        }
        Manager manager = Manager.start(config);
        Shutdown.closing(manager).await();
        return 0;
    }
}
