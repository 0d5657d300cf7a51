package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.DeploymentList;
import dev.hostdeploy.schema.deploy.DeploySchema.LogLine;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RollbackRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.Service;
import dev.hostdeploy.schema.deploy.DeploySchema.Status;
import dev.hostdeploy.schema.deploy.DeploySchema.SyncRequest;
import dev.hostdeploy.schema.deploy.Rules;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.worker.NameLocks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deploy commands: one operation at a time per deployment (a second one waits up to --lock-wait, then
 * gets {@code busy}); at most --max-parallel deployments run git or compose at once. A sync whose inputs
 * did not change and whose containers are up is answered here without git or compose; otherwise the repo
 * is fetched and the deploy itself is {@link DeploySteps}' (checkout, compose policy, compose up, waiting
 * for the services through {@link ServiceWait}).
 */
final class Deployer {
    private static final Logger LOG = LoggerFactory.getLogger(Deployer.class);

    /** Where progress lines go: the request's progress frames. */
    interface Sink {
        void line(String stage, String line);
    }

    private final DeployOptions options;
    private final Store store;
    private final Git git;
    private final Containers containers;
    private final Set<String> allowedOrgs;
    private final NameLocks locks;
    private final Semaphore heavy;
    private final ServiceWait wait;
    private final DeploySteps steps;

    Deployer(DeployOptions options, Store store, Proc proc, Git git, Compose compose, Containers containers) {
        this.options = options;
        this.store = store;
        this.git = git;
        this.containers = containers;
        this.allowedOrgs = options.allowedOrgs().stream().map(o -> o.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        this.heavy = new Semaphore(options.maxParallel(), true);
        this.locks = new NameLocks("deployment", options.lockWait());
        this.wait = new ServiceWait(containers, options.healthTimeout());
        this.steps = new DeploySteps(options, store, proc, git, compose, wait);
    }

    /** Defence in depth: the Manager checks the allowlist too, but the Worker never trusts that. */
    void requireAllowed(String repo) {
        String org = repo.substring(0, repo.indexOf('/'));
        if (!allowedOrgs.contains(org.toLowerCase(Locale.ROOT))) {
            throw ProtocolException.invalid("repo", "organisation '" + org + "' is not allowed on this worker");
        }
    }

    DeployResult sync(SyncRequest req, Sink out) {
        requireAllowed(req.repo());
        return exclusive(req.name(), out, () -> {
            Optional<State> prev = store.load(req.name());
            if (prev.isPresent() && !prev.get().repo().equalsIgnoreCase(req.repo())) {
                throw ProtocolException.conflict("deployment '" + req.name() + "' deploys " + prev.get().repo()
                        + ", not " + req.repo() + "; remove it first");
            }
            Map<String, String> stored = store.env(req.name());
            Map<String, String> env = req.env() != null ? req.env() : stored;
            // Old values too: compose may still print them while it replaces the containers that use them.
            List<String> secrets = new ArrayList<>(env.values());
            secrets.addAll(stored.values());
            Redactor redactor = new Redactor(secrets);
            String target = Git.isFullSha(req.ref()) ? req.ref() : git.lsRemote(req.repo(), req.ref(), req.deployKey()).orElse(null);
            if (target == null && (req.ref() == null || !Rules.SHA.matcher(req.ref()).matches())) {
                throw ProtocolException.notFound("ref '" + (req.ref() == null ? "HEAD" : req.ref())
                        + "' not found in " + req.repo());
            }
            if (prev.isPresent() && unchanged(prev.get(), req, target)) {
                List<Service> live = containers.project(req.name());
                if (ServiceWait.allUp(prev.get(), live)) {
                    State s = prev.get();
                    if (!Objects.equals(s.ref(), req.ref())) {
                        store.save(new State(s.name(), s.repo(), req.ref(), s.composePath(), s.commit(), s.status(),
                                s.lastError(), now(), s.services(), s.history(), s.allow()));
                    }
                    LOG.info("deploy.sync {}: {} unchanged, containers up", req.name(), s.commit());
                    return new DeployResult(s.name(), s.repo(), req.ref(), s.commit(), s.composePath(), false, live);
                }
            }
            return withHeavySlot(req.name(), out, () -> {
                Path dir = store.checkout(req.name());
                out.line("git", (Files.isDirectory(dir.resolve(".git")) ? "fetching " : "cloning ")
                        + git.url(req.repo(), req.deployKey()));
                git.cloneOrFetch(req.repo(), req.deployKey(), dir, redactor, l -> out.line("git", l));
                String commit = target != null ? steps.present(dir, target, req.deployKey(), redactor, out) : null;
                if (commit == null) {
                    commit = git.resolveLocal(dir, req.ref()).orElseThrow(() -> ProtocolException.notFound(
                            "ref '" + req.ref() + "' not found in " + req.repo()));
                }
                return steps.deploy(prev.orElse(null), req.name(), req.repo(), req.ref(), req.composePath(), commit,
                        env, req.env() != null, req.allow(), redactor, out);
            });
        });
    }

    DeployResult rollback(RollbackRequest req, Sink out) {
        return exclusive(req.name(), out, () -> {
            State prev = store.load(req.name()).orElseThrow(() -> missing(req.name()));
            requireAllowed(prev.repo());
            Map<String, String> env = store.env(req.name());
            Redactor redactor = new Redactor(env.values());
            return withHeavySlot(req.name(), out, () -> {
                Path dir = store.checkout(req.name());
                if (!Files.isDirectory(dir.resolve(".git"))) {
                    git.cloneOrFetch(prev.repo(), req.deployKey(), dir, redactor, l -> out.line("git", l));
                }
                String commit = steps.present(dir, req.commit(), req.deployKey(), redactor, out);
                if (commit == null) {
                    throw ProtocolException.notFound("commit " + req.commit() + " not found in " + prev.repo());
                }
                return steps.deploy(prev, req.name(), prev.repo(), prev.ref(), prev.composePath(), commit, env, false,
                        prev.allow(), redactor, out);
            });
        });
    }

    /** Starts a stopped deployment at its current commit (no git, no image build). */
    DeployResult start(String name, Sink out) {
        return exclusive(name, out, () -> {
            State s = store.load(name).orElseThrow(() -> missing(name));
            Map<String, String> env = store.env(name);
            Redactor redactor = new Redactor(env.values());
            return withHeavySlot(name, out, () -> {
                Path file = Compose.fileInside(store.checkout(name), s.composePath(), "composePath");
                steps.runCompose(name, file, env, redactor, out, "compose up", "up", "-d", "--remove-orphans", "--no-build");
                List<Service> live = wait.waitUp(name, redactor, out);
                store.save(new State(s.name(), s.repo(), s.ref(), s.composePath(), s.commit(), "running", null, now(),
                        DeploySteps.serviceNames(live), s.history(), s.allow()));
                return new DeployResult(name, s.repo(), s.ref(), s.commit(), s.composePath(), true, live);
            });
        });
    }

    Status stop(String name, Sink out) {
        return exclusive(name, out, () -> {
            State s = store.load(name).orElseThrow(() -> missing(name));
            Map<String, String> env = store.env(name);
            Redactor redactor = new Redactor(env.values());
            withHeavySlot(name, out, () -> {
                Path file = Compose.fileInside(store.checkout(name), s.composePath(), "composePath");
                steps.runCompose(name, file, env, redactor, out, "compose stop", "stop");
                return null;
            });
            State stopped = s.withStatus("stopped", null, now());
            store.save(stopped);
            return status(stopped, true);
        });
    }

    RemoveResult remove(RemoveRequest req, Sink out) {
        String name = req.name();
        return exclusive(name, out, () -> {
            Optional<State> s = store.load(name);
            if (s.isEmpty() && containers.project(name).isEmpty()) {
                throw missing(name);
            }
            Map<String, String> env = store.env(name);
            Redactor redactor = new Redactor(env.values());
            withHeavySlot(name, out, () -> {
                boolean done = false;
                if (s.isPresent()) {
                    try {
                        Path file = Compose.fileInside(store.checkout(name), s.get().composePath(), "composePath");
                        List<String> args = new ArrayList<>(List.of("down", "--remove-orphans"));
                        if (req.removeVolumes()) {
                            args.add("--volumes");
                        }
                        steps.runCompose(name, file, env, redactor, out, "compose down", args.toArray(String[]::new));
                        done = true;
                    } catch (ProtocolException | IllegalStateException e) {
                        out.line("compose", "compose down failed, removing by label: " + redactor.apply(e.getMessage()));
                    }
                }
                // Also catches what compose down leaves when the file changed since (or no file at all).
                containers.removeProject(name, req.removeVolumes());
                return done;
            });
            store.delete(name);
            steps.forget(name);
            LOG.info("deploy.remove {} (volumes {})", name, req.removeVolumes() ? "removed" : "kept");
            return new RemoveResult(name, req.removeVolumes(), containers.volumes(name));
        });
    }

    Status status(String name) {
        return status(store.load(name).orElseThrow(() -> missing(name)), true);
    }

    DeploymentList list() {
        List<Status> all = new ArrayList<>();
        for (String name : store.names()) {
            store.load(name).ifPresent(s -> all.add(status(s, false)));
        }
        return new DeploymentList(all);
    }

    /** Every deployment by name and status, from the Worker's own records alone (no Docker call). */
    List<HostSchema.Item> items() {
        List<HostSchema.Item> all = new ArrayList<>();
        for (String name : store.names()) {
            store.load(name).ifPresent(s -> all.add(new HostSchema.Item(s.name(), s.status(), null)));
        }
        return all;
    }

    LogsResult logs(LogsRequest req) {
        store.load(req.name()).orElseThrow(() -> missing(req.name()));
        Redactor redactor = new Redactor(store.env(req.name()).values());
        Instant since = req.since() == null ? null : LogsRequest.sinceInstant(req.since(), Instant.now());
        List<Service> live = containers.project(req.name());
        if (req.service() != null && live.stream().noneMatch(c -> c.service().equals(req.service()))) {
            throw ProtocolException.notFound("service '" + req.service() + "' has no container in " + req.name());
        }
        List<LogLine> lines = new ArrayList<>();
        for (Service c : live) {
            if (req.service() == null || c.service().equals(req.service())) {
                lines.addAll(containers.logs(c.service(), c.containerId(), req.tail(), since, redactor));
            }
        }
        return new LogsResult(req.name(), lines);
    }

    private Status status(State s, boolean withHistory) {
        return new Status(s.name(), s.repo(), s.ref(), s.commit(), s.composePath(), s.status(), s.lastError(),
                s.updatedAt(), withHistory ? s.history() : null, containers.project(s.name()));
    }

    /** Same commit, compose file and secrets as the last good deploy. */
    private boolean unchanged(State s, SyncRequest req, String target) {
        if (!"running".equals(s.status()) || s.lastError() != null || s.commit() == null) {
            return false;
        }
        boolean sameCommit = target != null ? target.equals(s.commit())
                : req.ref() != null && s.commit().startsWith(req.ref());
        boolean sameFile = req.composePath() == null || Path.of(req.composePath()).normalize().toString()
                .equals(Path.of(s.composePath()).normalize().toString());
        boolean sameAllow = Objects.equals(req.allow(), s.allow());
        boolean sameEnv = req.env() == null || new java.util.TreeMap<>(req.env()).equals(
                new java.util.TreeMap<>(store.env(req.name())));
        return sameCommit && sameFile && sameEnv && sameAllow;
    }

    private <T> T exclusive(String name, Sink out, Supplier<T> op) {
        return locks.locked(name, () -> out.line("wait", "waiting for another operation on " + name), op);
    }

    private <T> T withHeavySlot(String name, Sink out, Supplier<T> op) {
        try {
            if (!heavy.tryAcquire()) {
                out.line("wait", "waiting for a free deploy slot (--max-parallel " + options.maxParallel() + ")");
                heavy.acquire();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ProtocolException.unavailable("worker is shutting down");
        }
        try {
            return op.get();
        } finally {
            heavy.release();
        }
    }

    private static ProtocolException missing(String name) {
        return ProtocolException.notFound("no deployment named '" + name + "'");
    }

    private static String now() {
        return Instant.now().toString();
    }
}
