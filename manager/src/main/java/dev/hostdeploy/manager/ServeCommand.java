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

    @Option(names = "--ssh-port-range", paramLabel = "LOW-HIGH", defaultValue = "${env:HOSTDEPLOY_SSH_PORT_RANGE:-22000-22999}",
            description = "Host ports for members' container SSH (env HOSTDEPLOY_SSH_PORT_RANGE, default ${DEFAULT-VALUE})")
    String sshPortRange;

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
        java.util.regex.Matcher range = java.util.regex.Pattern.compile("(\\d{1,5})-(\\d{1,5})").matcher(sshPortRange);
        if (!range.matches()) {
            throw new IllegalArgumentException("--ssh-port-range must be LOW-HIGH, e.g. 22000-22999");
        }
        if (memberGraceDays < 0 || memberGraceDays > 36_500) {
            throw new IllegalArgumentException("--member-grace-days must be 0-36500");
        }
        ManagerConfig config = new ManagerConfig(dir, store.dataDir)
                .sshPortRange(Integer.parseInt(range.group(1)), Integer.parseInt(range.group(2)))
                .maxContainersPerMember(maxContainersPerMember)
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
                .webhookSecretFile(webhookSecretFile)
                .notifyUrl(notifyUrl)
                .deployParallel(deployParallel);
        if (sizes != null && !sizes.isEmpty()) {
            config.sizes(sizes.stream().map(dev.hostdeploy.manager.containers.ContainerSize::parse).toList());
        }
        Manager manager = Manager.start(config);
        Shutdown.closing(manager).await();
        return 0;
    }
}
