package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.agents.AgentErrors.cause;
import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianApi;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.deployments.Deployments.NewDeployment;
import dev.hostdeploy.manager.deployments.Deployments.OpenPort;
import dev.hostdeploy.manager.hosts.HostService;
import dev.hostdeploy.manager.ingress.Domains;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.jobs.Deploys;
import dev.hostdeploy.manager.jobs.Deploys.Deploy;
import dev.hostdeploy.manager.jobs.Deploys.Trigger;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RollbackRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.Status;
import dev.hostdeploy.schema.deploy.DeploySchema.SyncRequest;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.Proto;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deployments an admin names once and the Manager keeps deployed: every deploy runs as a job on
 * {@link JobRunner} (one at a time per deployment), recorded in {@link Deploys}, and the ports it
 * publishes on all interfaces are opened by the host's Guardian under the owner {@code deployment/NAME}.
 */
public final class DeploymentService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeploymentService.class);
    static final String OWNER_KIND = "deployment";

    private final Deployments deployments;
    private final Deploys deploys;
    private final JobRunner jobs;
    private final SecretBox secrets;
    private final AgentRegistry agents;
    private final HostService hosts;
    private final Set<String> allowedOrgs;
    private final Duration recoveryWait;
    private final IngressService ingress;
    private Poller poller;
    private volatile Duration followEvery = Duration.ofSeconds(1);
    /** Schedules the log followers' polls; the polls themselves are asynchronous agent calls. */
    private final java.util.concurrent.ScheduledExecutorService followTimer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "log-follow");
                t.setDaemon(true);
                return t;
            });
    private final DeployEvents events = new DeployEvents();
    private final List<FinishedListener> finished = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Told of each finished deploy (notifications, metrics); must not block or throw. */
    public interface FinishedListener {
        void finished(String deployment, String commit, String result, Duration duration, String error);
    }

    public void onFinished(FinishedListener listener) {
        finished.add(listener);
    }

    private void finished(Deployment d, Deploy run, String commit, String result, String error) {
        Duration took = Duration.between(run.startedAt(), Instant.now());
        for (FinishedListener l : finished) {
            try {
                l.finished(d.name(), commit, result, took, error);
            } catch (RuntimeException e) {
                LOG.warn("a listener of finished deploys failed: {}", e.toString());
            }
        }
    }

    /** A deployment as the API shows it: env values never, only the names of the variables set. */
    public record DeploymentView(String id, String name, String repo, String ref, String composePath, String host,
                                 String hostId, int pollInterval, Map<String, List<String>> allow,
                                 List<String> envKeys, String state, String commit,
                                 List<DeploySchema.Service> services, List<OpenPort> openPorts, Deploy lastDeploy,
                                 String lastError, Instant createdAt, Instant updatedAt, DeployKeyView deployKey,
                                 List<Domains.Claim> domains) {
    }

    /** A private repo's deploy key as shown: the public half only, to add on GitHub (read access). */
    public record DeployKeyView(String publicKey, Instant createdAt) {
    }

    /** Bound to the deployment and to its purpose, so a sealed key never opens as env or elsewhere. */
    private static String keyBinding(String id) {
        return id + "/deployKey";
    }

    public DeploymentService(Deployments deployments, Deploys deploys, JobRunner jobs, SecretBox secrets,
                             AgentRegistry agents, HostService hosts, List<String> allowedOrgs, Duration recoveryWait,
                             IngressService ingress) {
        this.ingress = ingress;
        this.deployments = deployments;
        this.deploys = deploys;
        this.jobs = jobs;
        this.secrets = secrets;
        this.agents = agents;
        this.hosts = hosts;
        this.allowedOrgs = new LinkedHashSet<>();
        allowedOrgs.forEach(o -> this.allowedOrgs.add(o.toLowerCase(Locale.ROOT)));
        this.recoveryWait = recoveryWait;
    }

    // ---- API ----

    public DeploymentView create(NewDeployment req, String actor) {
        return create(req, actor, true);
    }

    /**
     * Stores the deployment and queues its first deploy. Its domains are checked against the allowed
     * suffixes unless {@code admin}, and claimed first: a hostname another deployment holds is 409
     * and nothing is stored.
     */
    public DeploymentView create(NewDeployment req, String actor, boolean admin) {
        checkAllowed(req.repo());
        ingress.check(req.domains(), admin);
        String hostId = hostId(req.host());
        String id = Deployments.newId();
        ingress.claim(id, Owner.of(OWNER_KIND, req.name()), hostId, req.domains());
        Deployment d;
        try {
            d = deployments.insert(id, req, hostId, secrets.sealEnv(req.env() == null ? Map.of() : req.env(), id));
        } catch (RuntimeException e) {
            ingress.unclaim(id);
            throw e;
        }
        if (req.privateRepo()) {
            newDeployKey(d);
            d = deployments.require(id);
        }
        schedule(d.id(), Trigger.CREATE, actor);
        return view(d);
    }

    /**
     * A new deploy key for the deployment (its repo is then fetched over SSH with it); the old key stops
     * being used at once. Nothing is deployed: the admin first adds the new public key on GitHub.
     */
    public DeploymentView rotateDeployKey(String idOrName) {
        Deployment d = deployments.require(idOrName);
        newDeployKey(d);
        return view(deployments.require(d.id()));
    }

    private void newDeployKey(Deployment d) {
        DeployKeys.KeyPair key = DeployKeys.generate(d.name());
        deployments.deployKey(d.id(), secrets.sealText(key.privateKey(), keyBinding(d.id())), key.publicKey());
        LOG.info("deployment {}: new deploy key {}", d.name(), key.publicKey());
    }

    /** The private deploy key in clear, for one request to the Worker; null for a public repo. */
    String deployKey(Deployment d) {
        return secrets.openText(d.deployKeySealed(), keyBinding(d.id()));
    }

    public List<DeploymentView> list(String host, String state) {
        if (state != null && !Deployments.STATES.contains(state)) {
            throw ProtocolException.invalid("state", "must be one of " + Deployments.STATES);
        }
        // The domains of all deployments in one query, not one per deployment.
        Map<String, List<Domains.Claim>> claims = ingress.claimsByDeployment();
        return deployments.list(host == null ? null : hostId(host), state).stream()
                .map(d -> view(d, claims.getOrDefault(d.id(), List.of()))).toList();
    }

    public DeploymentView get(String idOrName) {
        return view(deployments.require(idOrName));
    }

    public Deployment require(String idOrName) {
        return deployments.require(idOrName);
    }

    public DeploymentView redeploy(String idOrName, Trigger trigger, String actor) {
        Deployment d = deployments.require(idOrName);
        schedule(d.id(), trigger, actor);
        return view(deployments.require(d.id()));
    }

    /**
     * The poller found {@code head} on the branch: deploys it unless it runs already or a rollback pinned
     * against it. Returns whether a deploy was queued.
     */
    boolean polled(String id, String head) {
        Deployment d = deployments.find(id).orElse(null);
        if (d == null || head.equals(d.commit()) || head.equals(d.pinnedAgainst())) {
            return false;
        }
        schedule(d.id(), Trigger.POLL, "poller");
        return true;
    }

    /** One poll cycle now over every polled deployment (see {@link Poller#pollNow}); 409 before polling starts. */
    public CompletableFuture<Poller.PollReport> pollNow() {
        if (poller == null) {
            throw ProtocolException.conflict("polling is not running");
        }
        return poller.pollNow();
    }

    /** Starts change detection; {@link #close} stops it. */
    public void startPolling(Duration tick) {
        poller = new Poller(this, tick);
    }

    /** Stops polling and the jobs; a deploy cut short stays recorded as running, for the next start. */
    @Override
    public void close() {
        if (poller != null) {
            poller.close();
        }
        followTimer.shutdownNow();
        jobs.close();
    }

    List<Deployment> all() {
        return deployments.list(null, null);
    }

    boolean busy(String id) {
        return jobs.busy(id);
    }

    AgentRegistry agents() {
        return agents;
    }

    /**
     * Deploys an earlier commit: {@code commit}, or when null the newest earlier commit that deployed
     * successfully. The deployment then stays on it until a new commit reaches its branch.
     */
    public DeploymentView rollback(String idOrName, String commit, String actor) {
        Deployment d = deployments.require(idOrName);
        String target = commit;
        if (target == null) {
            target = deploys.list(d.id(), 500).stream()
                    .filter(x -> Deploys.SUCCEEDED.equals(x.result()) && x.commit() != null && !x.commit().equals(d.commit()))
                    .map(Deploy::commit).findFirst()
                    .orElseThrow(() -> ProtocolException.conflict("no earlier successful commit to roll back to"));
        }
        String to = target;
        // Always queued, never merged into a waiting deploy of the branch.
        jobs.submit(d.id(), JobRunner.Kind.OTHER, () -> deploy(d.id(), Trigger.ROLLBACK, actor, to));
        return view(deployments.require(d.id()));
    }

    /**
     * Stops the services (containers kept), closes their ports and removes their domains' routes (the
     * hostnames stay claimed; start or a redeploy routes them again); after any deploy in progress.
     */
    public CompletableFuture<DeploymentView> stop(String idOrName) {
        Deployment d = deployments.require(idOrName);
        return jobs.call(d.id(), () -> {
            try {
                agents.worker(d.hostId()).deployStop(d.name(), null).get();
            } catch (Exception e) {
                throw failure(e);
            }
            reconcilePorts(d.id(), List.of(), null);
            ingress.suspend(d.id(), d.hostId(), owner(d)).forEach(line -> note(d.id(), null, line));
            deployments.state(d.id(), Deployments.STOPPED, null);
            events.state(d.id(), Deployments.STOPPED, d.commit(), null);
            return view(deployments.require(d.id()));
        });
    }

    /** Starts a stopped deployment's services again and reopens their ports. */
    public CompletableFuture<DeploymentView> start(String idOrName) {
        Deployment d = deployments.require(idOrName);
        return jobs.call(d.id(), () -> {
            DeployResult r;
            try {
                r = agents.worker(d.hostId()).deployStart(d.name(), null).get();
            } catch (Exception e) {
                throw failure(e);
            }
            reconcilePorts(d.id(), r.services(), null);
            routes(d.id(), r.services(), null);
            deployments.deployed(d.id(), Deployments.RUNNING, r.commit(), r.services(), null);
            events.state(d.id(), Deployments.RUNNING, r.commit(), null);
            return view(deployments.require(d.id()));
        });
    }

    /** Changes what the next deploy does; a change of ref, compose file or env deploys at once. */
    public DeploymentView patch(String idOrName, Deployments.DeploymentPatch patch, String actor) {
        Deployment d = deployments.require(idOrName);
        deployments.patch(d.id(), patch, patch.env() == null ? null : secrets.sealEnv(patch.env(), d.id()));
        if (patch.changesDeploy()) {
            schedule(d.id(), Trigger.MANUAL, actor);
        }
        return view(deployments.require(d.id()));
    }

    /**
     * Replaces the deployment's domains, after any deploy in progress: new hostnames are claimed (409
     * when another deployment holds one, and nothing changes), dropped ones lose their route and
     * claim, and every route is pointed at the services running now.
     */
    public CompletableFuture<DeploymentView> domains(String idOrName, List<Domains.Domain> domains, boolean admin) {
        Deployment d = deployments.require(idOrName);
        ingress.check(domains, admin);
        return jobs.call(d.id(), () -> {
            Deployment now = deployments.require(d.id());
            try {
                ingress.replace(now.id(), owner(now), now.hostId(), domains);
            } catch (Exception e) {
                throw failure(e);
            }
            // A stopped deployment's domains stay unrouted until it starts again.
            routes(now.id(), Deployments.STOPPED.equals(now.state()) ? List.of() : now.services(), null);
            return view(deployments.require(now.id()));
        });
    }

    /** Follows the deployment's deploys: the current one's lines so far, then live lines and state changes. */
    public void follow(String idOrName, io.javalin.http.sse.SseClient client) {
        events.subscribe(deployments.require(idOrName).id(), client);
    }

    /** The running services' own output ({@code deploy.logs}). */
    public CompletableFuture<LogsResult> logs(String idOrName, String service, Integer tail, String since) {
        Deployment d = deployments.require(idOrName);
        LogsRequest req = new LogsRequest(d.name(), service, tail, since);
        return agents.worker(d.hostId()).deployLogs(req);
    }

    /**
     * Checks a follow request, then gives what streams the services' output to an SSE client
     * ({@link LogFollower}): the tail (and lines {@code since}), then new lines as the Worker has them,
     * until the client disconnects.
     */
    public java.util.function.Consumer<io.javalin.http.sse.SseClient> logFollower(String idOrName, String service,
                                                                                Integer tail, String since) {
        Deployment d = deployments.require(idOrName);
        new LogsRequest(d.name(), service, tail, since);
        return client -> LogFollower.follow(client, followTimer, followEvery, next -> {
            Deployment now = deployments.find(d.id()).orElse(null);
            if (now == null) {
                return CompletableFuture.failedFuture(new AgentCallException(dev.hostdeploy.protocol.ErrorData.of(
                        ErrorCode.NOT_FOUND, "deployment " + d.name() + " was deleted", null)));
            }
            LogsRequest req = next == null ? new LogsRequest(d.name(), service, tail, since)
                    : new LogsRequest(d.name(), service, LogsRequest.MAX_TAIL, next);
            return agents.worker(now.hostId()).deployLogs(req);
        });
    }

    /** How often a log follower asks the Worker for new lines. */
    public void followEvery(Duration every) {
        this.followEvery = every;
    }

    public List<Deploy> history(String idOrName, int limit) {
        return deploys.list(deployments.require(idOrName).id(), limit);
    }

    public Deploys.DeployLog deployLog(String idOrName, String deployId) {
        return deploys.lines(deployments.require(idOrName).id(), deployId);
    }

    /**
     * Removes the compose project (named volumes kept unless {@code removeVolumes}), closes the
     * deployment's ports, then forgets it. Runs after any deploy in progress; the future fails (and the
     * deployment stays, to be deleted again) when the Worker or Guardian cannot do their part.
     */
    public CompletableFuture<Deployment> delete(String idOrName, boolean removeVolumes) {
        Deployment d = deployments.require(idOrName);
        return jobs.call(d.id(), () -> {
            try {
                agents.worker(d.hostId()).deployRemove(new RemoveRequest(d.name(), removeVolumes), null).get();
            } catch (Exception e) {
                if (!(cause(e) instanceof AgentCallException a && a.code() == ErrorCode.NOT_FOUND)) {
                    throw failure(e);
                }
            }
            try {
                ingress.release(d.id(), d.hostId(), owner(d));
                agents.guardian(d.hostId()).close(Close.owner(owner(d))).get();
            } catch (Exception e) {
                deployments.openPorts(d.id(), List.of());
                deployments.state(d.id(), Deployments.STOPPED, "removed, but its ports are not closed yet: " + message(e));
                throw failure(e);
            }
            deployments.delete(d.id());
            deploys.deleteFor(d.id());
            events.forget(d.id());
            return d;
        });
    }

    /** Redeploys every deployment of {@code repo} following {@code branch}; returns their names. */
    public List<String> pushed(String repo, String branch, Trigger trigger, String actor) {
        List<String> names = new ArrayList<>();
        for (Deployment d : deployments.byRepo(repo)) {
            if (d.ref().equals(branch) || d.ref().equals("refs/heads/" + branch)) {
                schedule(d.id(), trigger, actor);
                names.add(d.name());
            }
        }
        return names;
    }

    /** Resolves the deploys a previous Manager left running: each takes the outcome the Worker reports. */
    public void recoverInterrupted() {
        for (Deploy interrupted : deploys.interrupted()) {
            jobs.submit(interrupted.deploymentId(), JobRunner.Kind.OTHER, () -> recover(interrupted));
        }
    }

    // ---- jobs ----

    private void schedule(String id, Trigger trigger, String actor) {
        jobs.submit(id, JobRunner.Kind.DEPLOY, () -> deploy(id, trigger, actor, null));
    }

    /** {@code rollbackTo}: deploy that earlier commit instead of the branch's newest. */
    private void deploy(String id, Trigger trigger, String actor, String rollbackTo) {
        Deployment d = deployments.find(id).orElse(null);
        if (d == null) {
            return; // deleted while this deploy waited
        }
        Deploy run = deploys.start(id, trigger, actor);
        events.began(id, run.id());
        deployments.state(id, Deployments.DEPLOYING, d.lastError());
        events.state(id, Deployments.DEPLOYING, d.commit(), null);
        try {
            String key = deployKey(d);
            SyncRequest req = new SyncRequest(d.name(), d.repo(), d.ref(), d.composePath(),
                    secrets.openEnv(d.envSealed(), d.id()), d.allow(), key);
            java.util.function.Consumer<DeploySchema.Progress> progress =
                    p -> note(id, run.id(), p.stage() + ": " + p.line());
            DeployResult result = rollbackTo == null
                    ? agents.worker(d.hostId()).deploySync(req, progress).get()
                    : agents.worker(d.hostId()).deployRollback(new RollbackRequest(d.name(), rollbackTo, key), progress).get();
            // A rollback pins the deployment against the head it left; any other deploy follows the branch again.
            deployments.pin(id, rollbackTo == null ? null : d.pinnedAgainst() != null ? d.pinnedAgainst() : d.commit());
            note(id, run.id(), "deployed " + result.commit());
            reconcilePorts(id, result.services(), run.id());
            routes(id, result.services(), run.id());
            // The deploy record first: a deployment seen running has its deploy finished.
            deploys.finish(run.id(), Deploys.SUCCEEDED, result.commit(), null);
            deployments.deployed(id, Deployments.RUNNING, result.commit(), result.services(), null);
            events.state(id, Deployments.RUNNING, result.commit(), null);
            finished(d, run, result.commit(), Deploys.SUCCEEDED, null);
        } catch (Exception e) {
            if (e instanceof InterruptedException || jobs.closing()) {
                // The Manager is stopping: the record stays running, and the next start asks the Worker.
                Thread.currentThread().interrupt();
                return;
            }
            String error = message(e);
            note(id, run.id(), "failed: " + error);
            deploys.finish(run.id(), Deploys.FAILED, null, error);
            deployments.state(id, Deployments.FAILED, error);
            events.state(id, Deployments.FAILED, d.commit(), error);
            LOG.info("deploy of {} failed: {}", d.name(), error);
            finished(d, run, rollbackTo, Deploys.FAILED, error);
        }
    }

    private void recover(Deploy interrupted) {
        Deployment d = deployments.find(interrupted.deploymentId()).orElse(null);
        if (d == null) {
            deploys.finish(interrupted.id(), Deploys.FAILED, null, "the deployment was deleted");
            return;
        }
        long deadline = System.nanoTime() + recoveryWait.toNanos();
        String reason;
        while (true) {
            try {
                Status s = agents.worker(d.hostId()).deployStatus(d.name()).get();
                if (s.updatedAt() != null && !parse(s.updatedAt()).isBefore(interrupted.startedAt())) {
                    deploys.log(interrupted.id(), "the Manager restarted during this deploy; the worker reports: "
                            + s.status() + (s.lastError() == null ? "" : " (" + s.lastError() + ")"));
                    if ("running".equals(s.status()) && s.lastError() == null) {
                        reconcilePorts(d.id(), s.services(), interrupted.id());
                        routes(d.id(), s.services(), interrupted.id());
                        deploys.finish(interrupted.id(), Deploys.SUCCEEDED, s.commit(), null);
                        deployments.deployed(d.id(), Deployments.RUNNING, s.commit(), s.services(), null);
                    } else {
                        String error = s.lastError() != null ? s.lastError() : "the worker reports it " + s.status();
                        deploys.finish(interrupted.id(), Deploys.FAILED, null, error);
                        deployments.deployed(d.id(), Deployments.FAILED, s.commit(), s.services(), error);
                    }
                    return;
                }
                reason = "the worker's last record of it predates the deploy";
            } catch (Exception e) {
                Throwable c = cause(e);
                reason = c instanceof AgentCallException a && a.code() == ErrorCode.NOT_FOUND
                        ? "the worker has no record of it" : "the worker could not be asked: " + message(e);
            }
            if (System.nanoTime() > deadline) {
                String error = "interrupted by a Manager restart, and " + reason;
                deploys.log(interrupted.id(), "failed: " + error);
                deploys.finish(interrupted.id(), Deploys.FAILED, null, error);
                deployments.state(d.id(), Deployments.FAILED, error);
                return;
            }
            try {
                // The worker may still be finishing the sync it was given; ask again shortly.
                TimeUnit.MILLISECONDS.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Opens at the Guardian the ports now published on all interfaces and closes those no longer
     * published. A Guardian that cannot be reached leaves the difference for the next deploy; the
     * deploy itself stands.
     */
    private void reconcilePorts(String id, List<DeploySchema.Service> services, String deployId) {
        Deployment d = deployments.require(id);
        Set<OpenPort> want = published(services);
        List<OpenPort> open = new ArrayList<>(d.openPorts());
        try {
            GuardianApi guardian = agents.guardian(d.hostId());
            for (OpenPort p : want) {
                if (!open.contains(p)) {
                    guardian.open(rule(d, p)).get();
                    open.add(p);
                    note(id, deployId, "ports: opened " + p.protocol() + " " + p.port());
                }
            }
            for (OpenPort p : List.copyOf(open)) {
                if (!want.contains(p)) {
                    guardian.close(Close.of(rule(d, p))).get();
                    open.remove(p);
                    note(id, deployId, "ports: closed " + p.protocol() + " " + p.port());
                }
            }
        } catch (Exception e) {
            note(id, deployId, "ports: the guardian could not be updated: " + message(e));
        }
        deployments.openPorts(id, open);
    }

    /** Points the deployment's domains at the host ports its services now publish. */
    private void routes(String id, List<DeploySchema.Service> services, String deployId) {
        for (String line : ingress.sync(id, services)) {
            note(id, deployId, line);
        }
    }

    private void note(String deploymentId, String deployId, String line) {
        if (deployId != null) {
            deploys.log(deployId, line);
            events.line(deploymentId, deployId, line);
        } else {
            LOG.info(line);
        }
    }

    /** Ports published on all interfaces; those bound to one address (127.0.0.1) stay off the firewall. */
    static Set<OpenPort> published(List<DeploySchema.Service> services) {
        Set<OpenPort> out = new LinkedHashSet<>();
        for (DeploySchema.Service s : services) {
            for (DeploySchema.Port p : s.ports()) {
                String ip = p.hostIp();
                boolean everywhere = ip == null || ip.isEmpty() || ip.equals("0.0.0.0") || ip.equals("::");
                String proto = p.protocol() == null ? "tcp" : p.protocol();
                if (p.hostPort() != null && p.hostPort() > 0 && everywhere && (proto.equals("tcp") || proto.equals("udp"))) {
                    out.add(new OpenPort(proto, p.hostPort()));
                }
            }
        }
        return out;
    }

    private static RuleData rule(Deployment d, OpenPort p) {
        return RuleData.port(Proto.parse("protocol", p.protocol()), p.port(), owner(d));
    }

    static Owner owner(Deployment d) {
        return Owner.of(OWNER_KIND, d.name());
    }

    // ---- helpers ----

    private void checkAllowed(String repo) {
        String org = repo.substring(0, repo.indexOf('/')).toLowerCase(Locale.ROOT);
        if (!allowedOrgs.contains(org)) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("field", "repo");
            details.put("rule", "allowed-org");
            details.put("allowed", List.copyOf(allowedOrgs));
            throw new ApiException(422, "not_allowed", allowedOrgs.isEmpty()
                    ? "repo: no organisation is allowed; start the Manager with --allowed-org ORG"
                    : "repo: organisation '" + org + "' is not one of the allowed orgs " + allowedOrgs, details);
        }
    }

    private String hostId(String idOrName) {
        return hosts.list().stream().filter(h -> h.id().equals(idOrName) || h.name().equals(idOrName))
                .map(HostService.HostView::id).findFirst()
                .orElseThrow(() -> ProtocolException.notFound("no host " + idOrName));
    }

    private String hostName(String hostId) {
        return hosts.list().stream().filter(h -> h.id().equals(hostId)).map(HostService.HostView::name).findFirst()
                .orElse(null);
    }

    private DeploymentView view(Deployment d) {
        return view(d, ingress.claims(d.id()));
    }

    private DeploymentView view(Deployment d, List<Domains.Claim> domains) {
        return new DeploymentView(d.id(), d.name(), d.repo(), d.ref(), d.composePath(), hostName(d.hostId()),
                d.hostId(), d.pollInterval(), d.allow(), d.envKeys(), d.state(), d.commit(), d.services(),
                d.openPorts(), deploys.latest(d.id()).orElse(null), d.lastError(), d.createdAt(), d.updatedAt(),
                d.deployKeyPublic() == null ? null : new DeployKeyView(d.deployKeyPublic(), d.deployKeyCreatedAt()),
                domains);
    }

    private static Instant parse(String at) {
        try {
            return Instant.parse(at);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    private static RuntimeException failure(Exception e) {
        Throwable c = cause(e);
        return c instanceof RuntimeException r ? r : new IllegalStateException(c);
    }
}
