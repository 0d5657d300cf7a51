package dev.hostdeploy.manager.deployments;


import dev.hostdeploy.manager.agents.AgentRegistry;
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
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsResult;
import io.javalin.http.sse.SseClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deployments an admin names once and the Manager keeps deployed: the one entry point routes and other
 * features call. It checks and stores what is asked (the allowed orgs, the host, the domains' claims,
 * sealed env and deploy keys), queues the work on {@link JobRunner} (one job at a time per deployment,
 * a push during a deploy queuing exactly one more) and shows deployments as the API does. The work itself
 * is done by {@link DeployRunner} (one deploy), {@link DeployRecovery} (deploys a restart interrupted),
 * {@link DeploymentControl} (stop, start, delete), {@link DeploymentExposure} (ports at the Guardian,
 * routes through the ingress, under the owner {@code deployment/NAME}) and {@link DeploymentLogs}.
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
    private final IngressService ingress;
    private final DeployEvents events = new DeployEvents();
    private final DeploymentExposure exposure;
    private final DeployRunner runner;
    private final DeployRecovery recovery;
    private final DeploymentLogs logs;
    private final DeploymentControl control;
    private final DeploymentViews views;
    private Poller poller;

    /** Told of each finished deploy (notifications, metrics); must not block or throw. */
    public interface FinishedListener {
        void finished(String deployment, String commit, String result, Duration duration, String error);
    }

    public void onFinished(FinishedListener listener) {
        runner.onFinished(listener);
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
        this.exposure = new DeploymentExposure(deployments, agents, ingress);
        this.runner = new DeployRunner(deployments, deploys, jobs, secrets, agents, events, exposure);
        this.recovery = new DeployRecovery(deployments, deploys, agents, exposure, runner, recoveryWait);
        this.logs = new DeploymentLogs(deployments, agents);
        this.views = new DeploymentViews(hosts, deploys, ingress);
        this.control = new DeploymentControl(deployments, deploys, agents, ingress, events, exposure, runner);
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
        deployments.deployKey(d.id(), DeployKeys.seal(secrets, d.id(), key), key.publicKey());
        LOG.info("deployment {}: new deploy key {}", d.name(), key.publicKey());
    }

    /** The private deploy key in clear, for one request to the Worker; null for a public repo. */
    String deployKey(Deployment d) {
        return DeployKeys.open(secrets, d);
    }

    public List<DeploymentView> list(String host, String state) {
        if (state != null && !Deployments.STATES.contains(state)) {
            throw ProtocolException.invalid("state", "must be one of " + Deployments.STATES);
        }
        return views.of(deployments.list(host == null ? null : hostId(host), state));
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
        logs.close();
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
        jobs.submit(d.id(), JobRunner.Kind.OTHER, () -> runner.deploy(d.id(), Trigger.ROLLBACK, actor, to));
        return view(deployments.require(d.id()));
    }

    /**
     * Stops the services (containers kept), closes their ports and removes their domains' routes (the
     * hostnames stay claimed; start or a redeploy routes them again); after any deploy in progress.
     */
    public CompletableFuture<DeploymentView> stop(String idOrName) {
        Deployment d = deployments.require(idOrName);
        return jobs.call(d.id(), () -> view(control.stop(d)));
    }

    /** Starts a stopped deployment's services again, reopens their ports and routes its domains. */
    public CompletableFuture<DeploymentView> start(String idOrName) {
        Deployment d = deployments.require(idOrName);
        return jobs.call(d.id(), () -> view(control.start(d)));
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
                throw DeploymentControl.failure(e);
            }
            // A stopped deployment's domains stay unrouted until it starts again.
            exposure.routes(now.id(), Deployments.STOPPED.equals(now.state()) ? List.of() : now.services(),
                    line -> runner.note(now.id(), null, line));
            return view(deployments.require(now.id()));
        });
    }

    /** Follows the deployment's deploys: the current one's lines so far, then live lines and state changes. */
    public void follow(String idOrName, SseClient client) {
        events.subscribe(deployments.require(idOrName).id(), client);
    }

    /** The running services' own output ({@code deploy.logs}). */
    public CompletableFuture<LogsResult> logs(String idOrName, String service, Integer tail, String since) {
        return logs.logs(deployments.require(idOrName), service, tail, since);
    }

    /**
     * Checks a follow request, then gives what streams the services' output to an SSE client
     * ({@link LogFollower}): the tail (and lines {@code since}), then new lines as the Worker has them,
     * until the client disconnects.
     */
    public Consumer<SseClient> logFollower(String idOrName, String service, Integer tail, String since) {
        return logs.follower(deployments.require(idOrName), service, tail, since);
    }

    /** How often a log follower asks the Worker for new lines. */
    public void followEvery(Duration every) {
        logs.followEvery(every);
    }

    public List<Deploy> history(String idOrName, int limit) {
        return deploys.list(deployments.require(idOrName).id(), limit);
    }

    public Deploys.DeployLog deployLog(String idOrName, String deployId) {
        return deploys.lines(deployments.require(idOrName).id(), deployId);
    }

    /**
     * Removes the compose project (named volumes kept unless {@code removeVolumes}), its domains' routes
     * and claims and its ports, then forgets it. Runs after any deploy in progress; the future fails (and the
     * deployment stays, to be deleted again) when the Worker or Guardian cannot do their part.
     */
    public CompletableFuture<Deployment> delete(String idOrName, boolean removeVolumes) {
        Deployment d = deployments.require(idOrName);
        return jobs.call(d.id(), () -> control.delete(d, removeVolumes));
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
            jobs.submit(interrupted.deploymentId(), JobRunner.Kind.OTHER, () -> recovery.recover(interrupted));
        }
    }

    // ---- jobs ----

    private void schedule(String id, Trigger trigger, String actor) {
        jobs.submit(id, JobRunner.Kind.DEPLOY, () -> runner.deploy(id, trigger, actor, null));
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

    private DeploymentView view(Deployment d) {
        return views.of(d);
    }
}
