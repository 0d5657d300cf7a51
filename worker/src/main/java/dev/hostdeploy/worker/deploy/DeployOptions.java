package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.schema.deploy.Rules;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Worker options for the Docker auto-deploy pipeline (a picocli mixin of the run command). Tests and
 * benchmarks set them with the fluent setters instead of parsing a command line.
 */
public final class DeployOptions {
    @Option(names = "--deploy-root", paramLabel = "DIR", defaultValue = "/var/lib/hostdeploy/deploy",
            description = "Where checkouts, deploy state and secrets live (default: ${DEFAULT-VALUE}).")
    private Path deployRoot;

    @Option(names = "--git-base-url", paramLabel = "URL", defaultValue = "https://github.com",
            description = "Repositories are cloned from URL/ORG/NAME.git (default: ${DEFAULT-VALUE}).")
    private String gitBaseUrl;

    @Option(names = "--git-ssh-base", paramLabel = "PREFIX", defaultValue = "git@github.com:",
            description = "Private repositories (those with a deploy key) are fetched over SSH from PREFIX + ORG/NAME.git (default: ${DEFAULT-VALUE}).")
    private String gitSshBase;

    @Option(names = "--allowed-org", paramLabel = "ORG",
            description = "An organisation whose repositories may be deployed (repeatable). None: nothing may.")
    private List<String> allowedOrgs = new ArrayList<>();

    @Option(names = "--health-timeout", paramLabel = "DURATION", defaultValue = "120s",
            converter = DurationConverter.class,
            description = "How long a deploy waits for its services to run and pass healthchecks (default: ${DEFAULT-VALUE}).")
    private Duration healthTimeout;

    @Option(names = "--max-parallel", paramLabel = "N", defaultValue = "2",
            description = "How many deployments may run git/compose at once (default: ${DEFAULT-VALUE}).")
    private int maxParallel;

    @Option(names = "--docker-host", paramLabel = "URI", defaultValue = "unix:///var/run/docker.sock",
            description = "The Docker API endpoint (default: ${DEFAULT-VALUE}).")
    private String dockerHost;

    @Option(names = "--compose", paramLabel = "auto|v1|v2", defaultValue = "auto",
            description = "Which compose to run: 'docker compose' (v2), 'docker-compose' (v1), or auto-detect (default).")
    private String compose;

    @Option(names = "--git-timeout", paramLabel = "DURATION", defaultValue = "5m", converter = DurationConverter.class,
            description = "Longest a single git clone or fetch may take (default: ${DEFAULT-VALUE}).")
    private Duration gitTimeout;

    @Option(names = "--compose-timeout", paramLabel = "DURATION", defaultValue = "20m",
            converter = DurationConverter.class,
            description = "Longest a single compose call (including image builds) may take (default: ${DEFAULT-VALUE}).")
    private Duration composeTimeout;

    @Option(names = "--lock-wait", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
            description = "How long an operation waits for another one on the same deployment before answering busy (default: ${DEFAULT-VALUE}).")
    private Duration lockWait;

    /** Defaults equal to the command line's. */
    public DeployOptions() {
        deployRoot = Path.of("/var/lib/hostdeploy/deploy");
        gitBaseUrl = "https://github.com";
        gitSshBase = "git@github.com:";
        healthTimeout = Duration.ofSeconds(120);
        maxParallel = 2;
        dockerHost = "unix:///var/run/docker.sock";
        compose = "auto";
        gitTimeout = Duration.ofMinutes(5);
        composeTimeout = Duration.ofMinutes(20);
        lockWait = Duration.ofMinutes(10);
    }

    public Path deployRoot() { return deployRoot; }
    public String gitBaseUrl() { return gitBaseUrl; }
    public String gitSshBase() { return gitSshBase; }
    public List<String> allowedOrgs() { return List.copyOf(allowedOrgs); }
    public Duration healthTimeout() { return healthTimeout; }
    public int maxParallel() { return maxParallel; }
    public String dockerHost() { return dockerHost; }
    public String compose() { return compose; }
    public Duration gitTimeout() { return gitTimeout; }
    public Duration composeTimeout() { return composeTimeout; }
    public Duration lockWait() { return lockWait; }

    public DeployOptions deployRoot(Path v) { deployRoot = v; return this; }
    public DeployOptions gitBaseUrl(String v) { gitBaseUrl = v; return this; }
    public DeployOptions gitSshBase(String v) { gitSshBase = v; return this; }
    public DeployOptions allowedOrgs(List<String> v) { allowedOrgs = new ArrayList<>(v); return this; }
    public DeployOptions healthTimeout(Duration v) { healthTimeout = v; return this; }
    public DeployOptions maxParallel(int v) { maxParallel = v; return this; }
    public DeployOptions dockerHost(String v) { dockerHost = v; return this; }
    public DeployOptions compose(String v) { compose = v; return this; }
    public DeployOptions gitTimeout(Duration v) { gitTimeout = v; return this; }
    public DeployOptions composeTimeout(Duration v) { composeTimeout = v; return this; }
    public DeployOptions lockWait(Duration v) { lockWait = v; return this; }

    /** Checks the options together; the messages name the option so the CLI can print them as they are. */
    void validate() {
        if (deployRoot == null) {
            throw new IllegalArgumentException("--deploy-root is required");
        }
        if (gitBaseUrl == null || !gitBaseUrl.matches("(https?|git|ssh|file)://\\S+")) {
            throw new IllegalArgumentException("--git-base-url must be an http(s)://, git://, ssh:// or file:// URL");
        }
        // scp-like user@host: or an ssh:// URL ending in '/', so that ORG/NAME.git completes it.
        if (gitSshBase == null || !gitSshBase.matches("[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:|ssh://[^\\s'\"]+/")) {
            throw new IllegalArgumentException("--git-ssh-base must be like git@github.com: or ssh://user@host:port/path/");
        }
        for (String org : allowedOrgs) {
            if (!Rules.ORG.matcher(org).matches()) {
                throw new IllegalArgumentException("--allowed-org '" + org + "' is not a valid GitHub organisation");
            }
        }
        if (maxParallel < 1) {
            throw new IllegalArgumentException("--max-parallel must be at least 1");
        }
        if (!List.of("auto", "v1", "v2").contains(compose)) {
            throw new IllegalArgumentException("--compose must be auto, v1 or v2");
        }
        for (Duration d : List.of(healthTimeout, gitTimeout, composeTimeout, lockWait)) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
        }
    }

    /** Reads {@code 500ms}, {@code 90s}, {@code 10m}, {@code 2h}, a bare number of seconds, or ISO-8601 {@code PT2M}. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern SIMPLE = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

        @Override
        public Duration convert(String value) {
            Matcher m = SIMPLE.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "s" : m.group(2);
                return switch (unit) {
                    case "ms" -> Duration.ofMillis(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofSeconds(n);
                };
            }
            try {
                return Duration.parse(value.trim());
            } catch (java.time.format.DateTimeParseException e) {
                throw new TypeConversionException("'" + value + "' is not a duration (e.g. 90s, 10m, 2h)");
            }
        }
    }
}
