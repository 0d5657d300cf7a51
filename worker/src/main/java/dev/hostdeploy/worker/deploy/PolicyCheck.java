package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.PolicyRule;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the {@link ComposePolicy} before compose creates or changes anything: the raw file for the paths
 * compose reads while normalizing, then compose's normalized {@code config} (same invocation and env file
 * as {@code up}) for the rest.
 *
 * <p>Starting compose v1 (Python) for {@code config} costs about 0.45 s, most of a redeploy's overhead. So
 * the normalized output is kept per deployment, in memory only (it holds interpolated secrets), with the
 * {@link ComposeInputs} hash of everything compose read to print it; while that hash is the same, compose
 * is not started again. The verdict itself is never reused: the policy judges the output again on every
 * deploy, against the checkout as it is now, since a new commit can turn a bind-mounted directory into a
 * symlink out of the checkout without touching any file compose reads.
 */
final class PolicyCheck {
    /** Compose's normalized config and the hash of what it was made from. */
    private record Normalized(String inputs, String config) {
    }

    /** Characters of normalized config kept per deployment (compose v1 inlines env_files: it can be large). */
    private static final int MAX_KEPT = 1 << 20;

    private final DeployOptions options;
    private final Store store;
    private final Proc proc;
    private final Compose compose;
    private final Map<String, Normalized> normalized = new ConcurrentHashMap<>();

    PolicyCheck(DeployOptions options, Store store, Proc proc, Compose compose) {
        this.options = options;
        this.store = store;
        this.proc = proc;
        this.compose = compose;
    }

    /**
     * Fails with {@code invalid_data} on {@code composePath} when the file breaks the policy, or as compose
     * failed when its {@code config} does. Called under the deployment's lock.
     */
    void check(String name, Path dir, Path file, Map<PolicyRule, Set<String>> exceptions, Redactor redactor,
               Deployer.Sink out) {
        ComposePolicy policy = new ComposePolicy(dir, ComposePolicy.socketsOf(options.dockerHost()), exceptions);
        ComposePolicy.enforce(policy.checkRaw(file));
        List<String> command = compose.command(name, store.envFile(name), file, "config");
        Map<String, String> environment = Proc.environment(command, Map.of("DOCKER_HOST", options.dockerHost()));
        Optional<String> inputs = ComposeInputs.hash(command, environment, store.envFile(name), file);
        Normalized last = normalized.get(name);
        boolean reused = inputs.isPresent() && last != null && last.inputs().equals(inputs.get());
        String config;
        if (reused) {
            config = last.config();
        } else {
            normalized.remove(name);
            config = config(name, command, file, redactor, out);
            // Kept only if nothing changed while compose read the files, and only if small: every deployment
            // holds its own until it is removed.
            if (inputs.isPresent() && config.length() <= MAX_KEPT
                    && inputs.equals(ComposeInputs.hash(command, environment, store.envFile(name), file))) {
                normalized.put(name, new Normalized(inputs.get(), config));
            }
        }
        ComposePolicy.enforce(policy.checkConfig(config));
        out.line("compose", "compose policy: ok" + (exceptions.isEmpty() ? "" : " (exceptions: " + exceptions + ")")
                + (reused ? "; compose config not run: the compose files and variables are those of the last check" : ""));
    }

    /** Drops what is kept of a deployment (removed, so a new one of that name starts afresh). */
    void forget(String name) {
        normalized.remove(name);
    }

    private String config(String name, List<String> command, Path file, Redactor redactor, Deployer.Sink out) {
        StringBuilder config = new StringBuilder();
        Proc.Result r = proc.run(command, file.getParent(), Map.of("DOCKER_HOST", options.dockerHost()),
                options.composeTimeout(), redactor, l -> out.line("compose", l), config);
        if (!r.ok()) {
            throw new ProtocolException(r.timedOut() ? ErrorCode.TIMEOUT : ErrorCode.INTERNAL,
                    "compose config of " + name + (r.timedOut() ? " timed out" : " failed (exit " + r.exit() + ")")
                            + "; last lines:\n" + r.tailText());
        }
        return config.toString();
    }
}
