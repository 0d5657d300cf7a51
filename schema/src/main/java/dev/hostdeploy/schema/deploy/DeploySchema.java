package dev.hostdeploy.schema.deploy;

import static dev.hostdeploy.protocol.Validation.require;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The Worker's deploy commands (git + docker compose) and {@code repo.head}: each command's name and its
 * request and result records. Requests check their fields in the constructor with {@link Rules}, so a
 * bad request is {@code invalid_data} naming the field before git or Docker is touched.
 */
public final class DeploySchema {
    /** {@link SyncRequest} to {@link DeployResult}; streams {@link Progress}. */
    public static final String SYNC = "deploy.sync";
    /** {@link NameRequest} to {@link Status}. */
    public static final String STATUS = "deploy.status";
    /** {@link LogsRequest} to {@link LogsResult}. */
    public static final String LOGS = "deploy.logs";
    /** No data, to {@link DeploymentList}. */
    public static final String LIST = "deploy.list";
    /** {@link NameRequest} to {@link Status}; streams {@link Progress}. */
    public static final String STOP = "deploy.stop";
    /** {@link NameRequest} to {@link DeployResult}; streams {@link Progress}. */
    public static final String START = "deploy.start";
    /** {@link RemoveRequest} to {@link RemoveResult}; streams {@link Progress}. */
    public static final String REMOVE = "deploy.remove";
    /** {@link RollbackRequest} to {@link DeployResult}; streams {@link Progress}. */
    public static final String ROLLBACK = "deploy.rollback";
    /** {@link RepoHeadRequest} to {@link RepoHeadResult}: the remote commit of a ref, without cloning. */
    public static final String REPO_HEAD = "repo.head";
    /** {@link RepoHeadsRequest} to {@link RepoHeadsResult}: {@code repo.head} for many repos in one call. */
    public static final String REPO_HEADS = "repo.heads";

    private DeploySchema() {
    }

    // ---- requests ----

    /**
     * {@code deploy.sync}. A null env keeps the secrets of the previous sync; an empty one clears them.
     * {@code allow} (null: none) grants exceptions to the Worker's compose policy: keys are
     * {@link PolicyRule} names, values the compose services the exception covers. {@code deployKey} (null:
     * a public repo over the git base URL) is the OpenSSH private key of a private repo's deploy key: the
     * Worker then fetches over SSH with it, writing it to disk only for each git call.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SyncRequest(String name, String repo, String ref, String composePath, Map<String, String> env,
                              Map<String, List<String>> allow, String deployKey) {
        public SyncRequest {
            Rules.name(name, "name");
            Rules.repo(repo, "repo");
            Rules.ref(ref, "ref");
            Rules.composePath(composePath, "composePath");
            Rules.env(env, "env");
            Rules.allow(allow, "allow");
            Rules.deployKey(deployKey, "deployKey");
            env = env == null ? null : Map.copyOf(env);
            allow = allow == null ? null : Map.copyOf(allow.entrySet().stream().collect(
                    Collectors.toMap(Map.Entry::getKey, e -> List.copyOf(e.getValue()))));
        }

        public SyncRequest(String name, String repo, String ref, String composePath, Map<String, String> env) {
            this(name, repo, ref, composePath, env, null, null);
        }

        public SyncRequest(String name, String repo, String ref, String composePath, Map<String, String> env,
                           Map<String, List<String>> allow) {
            this(name, repo, ref, composePath, env, allow, null);
        }

        /** The services each policy rule is waived for; empty when none. */
        public Map<PolicyRule, Set<String>> exceptions() {
            Map<PolicyRule, Set<String>> out = new EnumMap<>(PolicyRule.class);
            if (allow != null) {
                allow.forEach((k, v) -> out.put(PolicyRule.byKey(k).orElseThrow(), Set.copyOf(v)));
            }
            return out;
        }

        @Override
        public String toString() {
            // Keeps secrets out of any log line that prints a request.
            return "SyncRequest[name=" + name + ", repo=" + repo + ", ref=" + ref + ", composePath=" + composePath
                    + ", env=" + (env == null ? "unchanged" : env.keySet()) + ", allow=" + allow
                    + ", deployKey=" + (deployKey == null ? "none" : "given") + "]";
        }
    }

    /** {@code deploy.status}, {@code deploy.stop}, {@code deploy.start}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NameRequest(String name) {
        public NameRequest {
            Rules.name(name, "name");
        }
    }

    /** {@code deploy.remove}: named volumes survive unless {@code removeVolumes}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RemoveRequest(String name, Boolean removeVolumes) {
        public RemoveRequest {
            Rules.name(name, "name");
            removeVolumes = removeVolumes != null && removeVolumes;
        }
    }

    /** {@code deploy.rollback}: an earlier commit (7 to 40 hex digits) of the same repository. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RollbackRequest(String name, String commit, String deployKey) {
        public RollbackRequest {
            Rules.name(name, "name");
            Rules.commit(commit, "commit");
            Rules.deployKey(deployKey, "deployKey");
        }

        public RollbackRequest(String name, String commit) {
            this(name, commit, null);
        }

        @Override
        public String toString() {
            return "RollbackRequest[name=" + name + ", commit=" + commit + ", deployKey="
                    + (deployKey == null ? "none" : "given") + "]";
        }
    }

    /**
     * {@code deploy.logs}: {@code since} is an ISO-8601 instant or a relative age such as {@code 90s},
     * {@code 10m}, {@code 2h}, {@code 1d}; {@code tail} defaults to 100.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record LogsRequest(String name, String service, Integer tail, String since) {
        public static final int MAX_TAIL = 10_000;
        private static final Pattern AGE = Pattern.compile("(\\d{1,9})(s|m|h|d)");

        public LogsRequest {
            Rules.name(name, "name");
            require(service == null || service.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"), "service",
                    "is not a valid compose service name");
            tail = tail == null ? 100 : tail;
            require(tail >= 1 && tail <= MAX_TAIL, "tail", "must be between 1 and " + MAX_TAIL);
            if (since != null) {
                sinceInstant(since, Instant.now());
            }
        }

        /** The instant {@code since} names, relative ages counted back from {@code now}. */
        public static Instant sinceInstant(String since, Instant now) {
            Matcher m = AGE.matcher(since);
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                Duration d = switch (m.group(2)) {
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
                return now.minus(d);
            }
            try {
                return Instant.parse(since);
            } catch (DateTimeParseException e) {
                throw ProtocolException.invalid("since", "must be an ISO-8601 instant or an age like 90s, 10m, 2h, 1d");
            }
        }
    }

    /** {@code repo.head}: a null ref means the default branch. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RepoHeadRequest(String repo, String ref, String deployKey) {
        public RepoHeadRequest {
            Rules.repo(repo, "repo");
            Rules.ref(ref, "ref");
            Rules.deployKey(deployKey, "deployKey");
        }

        public RepoHeadRequest(String repo, String ref) {
            this(repo, ref, null);
        }

        @Override
        public String toString() {
            return "RepoHeadRequest[repo=" + repo + ", ref=" + ref + ", deployKey="
                    + (deployKey == null ? "none" : "given") + "]";
        }
    }

    /** {@code repo.heads}: up to {@link #MAX_HEADS} repos and refs, asked in parallel. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RepoHeadsRequest(List<RepoHeadRequest> repos) {
        public static final int MAX_HEADS = 1000;

        public RepoHeadsRequest {
            require(repos != null, "repos", "is required");
            require(repos.size() <= MAX_HEADS, "repos", "at most " + MAX_HEADS + " per call");
            for (int i = 0; i < repos.size(); i++) {
                require(repos.get(i) != null, "repos[" + i + "]", "is required");
            }
            repos = List.copyOf(repos);
        }
    }

    // ---- results ----

    /** A published port of a container, as the Docker API reports it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Port(String hostIp, Integer hostPort, Integer containerPort, String protocol) {
    }

    /**
     * One container of a compose service, as the Docker API reports it. {@code state} is Docker's
     * ({@code running}, {@code exited}...), {@code health} null without a healthcheck, {@code exitCode}
     * null while running.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Service(String service, String containerId, String containerName, String state, String health,
                          String startedAt, Integer exitCode, List<Port> ports) {
        public Service {
            ports = ports == null ? List.of() : List.copyOf(ports);
        }

        /** Running, and healthy or without a healthcheck. */
        public boolean up() {
            return "running".equals(state) && (health == null || "healthy".equals(health));
        }
    }

    /**
     * The reply of {@code deploy.sync}, {@code deploy.rollback} and {@code deploy.start}: the commit now
     * running. {@code changed}: compose ran (false for a sync that found nothing to do).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DeployResult(String name, String repo, String ref, String commit, String composePath,
                               boolean changed, List<Service> services) {
        public DeployResult {
            services = services == null ? List.of() : List.copyOf(services);
        }
    }

    /** One successful deploy of a commit; a deployment's history lists them newest first. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Deployed(String commit, String at) {
    }

    /**
     * A deployment's state and live containers. {@code status} is {@code running}, {@code stopped} or
     * {@code failed}; {@code lastError} the last failure; {@code history} (null in {@code deploy.list})
     * the last deployed commits, newest first.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Status(String name, String repo, String ref, String commit, String composePath, String status,
                         String lastError, String updatedAt, List<Deployed> history, List<Service> services) {
        public Status {
            history = history == null ? null : List.copyOf(history);
            services = services == null ? List.of() : List.copyOf(services);
        }
    }

    /** {@code deploy.list}: every deployment, without history. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record DeploymentList(List<Status> deployments) {
        public DeploymentList {
            deployments = deployments == null ? List.of() : List.copyOf(deployments);
        }
    }

    /**
     * One line a container wrote; {@code stream} is {@code stdout} or {@code stderr}. Secrets redacted.
     * {@code time} is when Docker received it (RFC 3339 with nanoseconds), which lets a follower ask again
     * {@code since} and drop the lines it has; null from a Worker that does not say.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LogLine(String service, String containerId, String stream, String line, String time) {
        public LogLine(String service, String containerId, String stream, String line) {
            this(service, containerId, stream, line, null);
        }
    }

    /** {@code deploy.logs}: the lines of the deployment's containers, oldest first per container. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record LogsResult(String name, List<LogLine> lines) {
        public LogsResult {
            lines = lines == null ? List.of() : List.copyOf(lines);
        }
    }

    /** {@code deploy.remove}: the project's named volumes, kept or (with removeVolumes) just removed. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RemoveResult(String name, boolean removedVolumes, List<String> volumesKept) {
        public RemoveResult {
            volumesKept = volumesKept == null ? List.of() : List.copyOf(volumesKept);
        }
    }

    /** {@code repo.head}: the commit the ref names now (annotated tags peeled). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RepoHeadResult(String repo, String ref, String commit) {
    }

    /** {@code repo.heads}' answer: one item per requested repo, in the order asked. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RepoHeadsResult(List<RepoHeadItem> heads) {
        public RepoHeadsResult {
            heads = heads == null ? List.of() : List.copyOf(heads);
        }
    }

    /** One repo's head: {@code commit}, or {@code error} (e.g. {@code not_found}) when it could not be read. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RepoHeadItem(String repo, String ref, String commit, dev.hostdeploy.protocol.ErrorData error) {
    }

    /**
     * A progress frame of a deploy command: one line of git or compose output, or a step of the pipeline.
     * {@code stage} is {@code git}, {@code compose}, {@code health} or {@code wait}. Secrets redacted.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Progress(String name, String stage, String line) {
    }
}
