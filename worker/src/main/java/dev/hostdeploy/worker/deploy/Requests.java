package dev.hostdeploy.worker.deploy;

import static dev.hostdeploy.protocol.Validation.require;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The request data of the deploy.*, repo.* and host.* commands. */
final class Requests {
    private Requests() {
    }

    /** {@code deploy.sync}. A null env keeps the secrets of the previous sync; an empty one clears them. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Sync(String name, String repo, String ref, String composePath, Map<String, String> env) {
        Sync {
            Rules.name(name, "name");
            Rules.repo(repo, "repo");
            Rules.ref(ref, "ref");
            Rules.composePath(composePath, "composePath");
            Rules.env(env, "env");
            env = env == null ? null : Map.copyOf(env);
        }

        @Override
        public String toString() {
            // Keeps secrets out of any log line that prints a request.
            return "Sync[name=" + name + ", repo=" + repo + ", ref=" + ref + ", composePath=" + composePath
                    + ", env=" + (env == null ? "unchanged" : env.keySet()) + "]";
        }
    }

    /** {@code deploy.status}, {@code deploy.stop}, {@code deploy.start}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Name(String name) {
        Name {
            Rules.name(name, "name");
        }
    }

    /** {@code deploy.remove}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Remove(String name, Boolean removeVolumes) {
        Remove {
            Rules.name(name, "name");
            removeVolumes = removeVolumes != null && removeVolumes;
        }
    }

    /** {@code deploy.rollback}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Rollback(String name, String commit) {
        Rollback {
            Rules.name(name, "name");
            Rules.commit(commit, "commit");
        }
    }

    /**
     * {@code deploy.logs}: {@code since} is an ISO-8601 instant or a relative age such as {@code 90s},
     * {@code 10m}, {@code 2h}, {@code 1d}.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Logs(String name, String service, Integer tail, String since) {
        static final int MAX_TAIL = 10_000;
        private static final Pattern AGE = Pattern.compile("(\\d{1,9})(s|m|h|d)");

        Logs {
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
        static Instant sinceInstant(String since, Instant now) {
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
                throw dev.hostdeploy.protocol.ProtocolException.invalid("since",
                        "must be an ISO-8601 instant or an age like 90s, 10m, 2h, 1d");
            }
        }
    }

    /** {@code repo.head}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record RepoHead(String repo, String ref) {
        RepoHead {
            Rules.repo(repo, "repo");
            Rules.ref(ref, "ref");
        }
    }
}
