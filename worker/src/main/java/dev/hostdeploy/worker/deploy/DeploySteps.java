package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.Deployed;
import dev.hostdeploy.schema.deploy.DeploySchema.Service;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of one deploy on a deployment's checkout, shared by sync and rollback: check out the commit,
 * pick the compose file, the compose policy, compose up, wait for the services, record the state; and
 * the way back when a step fails (the checkout back at the running commit and the failure recorded, or
 * the new containers left for inspection). {@link Deployer} keeps what surrounds a deploy: the per-name
 * lock, the deploy slots, the unchanged-sync shortcut and the commands that deploy nothing.
 */
final class DeploySteps {
    /** Deployer's: operators filter the Worker's deploy log by that name. */
    private static final Logger LOG = LoggerFactory.getLogger(Deployer.class);
    static final List<String> DEFAULT_COMPOSE_FILES =
            List.of("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml");

    private final DeployOptions options;
    private final Store store;
    private final Proc proc;
    private final Git git;
    private final Compose compose;
    private final ServiceWait wait;
    private final PolicyCheck policy;

    DeploySteps(DeployOptions options, Store store, Proc proc, Git git, Compose compose, ServiceWait wait) {
        this.options = options;
        this.store = store;
        this.proc = proc;
        this.git = git;
        this.compose = compose;
        this.wait = wait;
        this.policy = new PolicyCheck(options, store, proc, compose);
    }

    /** Drops what the compose policy kept of a removed deployment. */
    void forget(String name) {
        policy.forget(name);
    }

    /** Checks out the commit, runs compose up and waits for the services; the shared tail of sync and rollback. */
    DeployResult deploy(State prev, String name, String repo, String ref, String composePath, String commit,
                        Map<String, String> env, boolean envGiven, Map<String, List<String>> allow,
                        Redactor redactor, Deployer.Sink out) {
        Path dir = store.checkout(name);
        out.line("git", "checking out " + commit);
        git.checkout(dir, commit);
        String relative;
        Path file;
        try {
            relative = composePath != null ? composePath : defaultComposeFile(dir);
            file = Compose.fileInside(dir, relative, "composePath");
        } catch (ProtocolException e) {
            restore(prev, dir);
            throw e;
        }
        if (envGiven || !Files.exists(store.envFile(name))) {
            store.writeEnv(name, env);
        }
        try {
            policy.check(name, dir, file, new State(name, repo, ref, relative, commit, null, null, null, null, null, allow)
                    .exceptions(), redactor, out);
        } catch (ProtocolException e) {
            // Refused before compose created or changed anything: what ran keeps running, from its commit.
            restore(prev, dir);
            store.save(prev != null ? prev.withStatus(prev.status(), e.getMessage(), now())
                    : new State(name, repo, ref, relative, null, "failed", e.getMessage(), now(), null, null, allow));
            throw e;
        }
        // compose recreates a container only when its config or image changed, so a service that copies or
        // reads files from the checkout when it starts would keep serving the old commit: a new commit
        // recreates every service (images are rebuilt first by --build).
        List<String> up = new ArrayList<>(List.of("up", "-d", "--remove-orphans", "--build"));
        if (prev == null || !commit.equals(prev.commit())) {
            up.add("--force-recreate");
        }
        try {
            runCompose(name, file, env, redactor, out, "compose up", up.toArray(String[]::new));
        } catch (ProtocolException e) {
            // compose refused before replacing anything (bad file, failed build): the old containers still run
            // from the old commit, so the checkout goes back to it too.
            restore(prev, dir);
            if (prev != null) {
                store.save(prev.withStatus(prev.status(), e.getMessage(), now()));
            } else {
                store.save(new State(name, repo, ref, relative, null, "failed", e.getMessage(), now(), null, null,
                        allow));
            }
            throw e;
        }
        List<Service> live;
        try {
            live = wait.waitUp(name, redactor, out);
        } catch (ProtocolException e) {
            List<Deployed> history = prev == null ? null : prev.history();
            store.save(new State(name, repo, ref, relative, commit, "failed", e.getMessage(), now(), null, history,
                    allow));
            throw e;
        }
        State done = new State(name, repo, ref, relative, commit, "running", null, now(), serviceNames(live),
                prev == null ? null : prev.history(), allow).withHistory(commit, now());
        store.save(done);
        LOG.info("deployed {} {}@{} ({} containers)", name, repo, commit, live.size());
        return new DeployResult(name, repo, ref, commit, relative, true, live);
    }

    private void restore(State prev, Path dir) {
        if (prev != null && prev.commit() != null) {
            try {
                git.checkout(dir, prev.commit());
            } catch (RuntimeException e) {
                LOG.warn("could not restore checkout of {} to {}", prev.name(), prev.commit());
            }
        }
    }

    private String defaultComposeFile(Path dir) {
        for (String f : DEFAULT_COMPOSE_FILES) {
            if (Files.exists(dir.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return f;
            }
        }
        throw ProtocolException.invalid("composePath", "not given, and the repository has none of "
                + String.join(", ", DEFAULT_COMPOSE_FILES));
    }

    /** The full sha of a commit in the clone, fetching it by sha once if no branch or tag brought it. */
    String present(Path dir, String commit, String deployKey, Redactor redactor, Deployer.Sink out) {
        Optional<String> sha = git.commitOf(dir, commit);
        if (sha.isEmpty() && Git.isFullSha(commit)
                && git.fetchCommit(dir, commit, deployKey, redactor, l -> out.line("git", l))) {
            sha = git.commitOf(dir, commit);
        }
        return sha.orElse(null);
    }

    /** One compose command on the deployment's file and env file; fails with its last output lines. */
    void runCompose(String name, Path file, Map<String, String> env, Redactor redactor, Deployer.Sink out,
                    String what, String... args) {
        List<String> cmd = compose.command(name, store.envFile(name), file, args);
        if (!Files.exists(store.envFile(name))) {
            store.writeEnv(name, env);
        }
        // The deployment's variables reach compose only through its env file: never its own environment.
        Proc.Result r = proc.run(cmd, file.getParent(), Map.of("DOCKER_HOST", options.dockerHost()),
                options.composeTimeout(), redactor, l -> out.line("compose", l));
        if (!r.ok()) {
            throw new ProtocolException(r.timedOut() ? ErrorCode.TIMEOUT : ErrorCode.INTERNAL,
                    what + " of " + name + (r.timedOut() ? " timed out" : " failed (exit " + r.exit() + ")")
                            + "; last lines:\n" + r.tailText());
        }
    }

    static List<String> serviceNames(List<Service> live) {
        return List.copyOf(live.stream().map(Service::service).collect(Collectors.toCollection(LinkedHashSet::new)));
    }

    private static String now() {
        return Instant.now().toString();
    }
}
