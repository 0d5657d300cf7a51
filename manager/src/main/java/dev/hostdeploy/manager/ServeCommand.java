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
        ManagerConfig config = new ManagerConfig(dir, store.dataDir)
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
                .deployParallel(deployParallel);
        Manager manager = Manager.start(config);
        Shutdown.closing(manager).await();
        return 0;
    }
}
