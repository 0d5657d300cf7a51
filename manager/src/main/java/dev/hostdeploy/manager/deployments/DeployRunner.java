package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.deployments.DeploymentService.FinishedListener;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.jobs.Deploys;
import dev.hostdeploy.manager.jobs.Deploys.Deploy;
import dev.hostdeploy.manager.jobs.Deploys.Trigger;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RollbackRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.SyncRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One deploy, as it runs on the deployment's job: recorded in {@link Deploys} from start to outcome, the
 * Worker's progress relayed as it comes, the result exposed ({@link DeploymentExposure}) and told to the
 * listeners of finished deploys. Kept apart from the API so the queueing (which deploys run, when) and
 * the running (what one deploy does) can be read, and changed, one at a time.
 */
final class DeployRunner {
    private static final Logger LOG = LoggerFactory.getLogger(DeployRunner.class);

    private final Deployments deployments;
    private final Deploys deploys;
    private final JobRunner jobs;
    private final SecretBox secrets;
    private final AgentRegistry agents;
    private final DeployEvents events;
    private final DeploymentExposure exposure;
    private final List<FinishedListener> finished = new CopyOnWriteArrayList<>();

    DeployRunner(Deployments deployments, Deploys deploys, JobRunner jobs, SecretBox secrets, AgentRegistry agents,
                 DeployEvents events, DeploymentExposure exposure) {
        this.deployments = deployments;
        this.deploys = deploys;
        this.jobs = jobs;
        this.secrets = secrets;
        this.agents = agents;
        this.events = events;
        this.exposure = exposure;
    }

    void onFinished(FinishedListener listener) {
        finished.add(listener);
    }

    /** {@code rollbackTo}: deploy that earlier commit instead of the branch's newest. */
    void deploy(String id, Trigger trigger, String actor, String rollbackTo) {
        Deployment d = deployments.find(id).orElse(null);
        if (d == null) {
            return; // deleted while this deploy waited
        }
        Deploy run = deploys.start(id, trigger, actor);
        events.began(id, run.id());
        deployments.state(id, Deployments.DEPLOYING, d.lastError());
        events.state(id, Deployments.DEPLOYING, d.commit(), null);
        Consumer<String> note = line -> note(id, run.id(), line);
        try {
            String key = DeployKeys.open(secrets, d);
            SyncRequest req = new SyncRequest(d.name(), d.repo(), d.ref(), d.composePath(),
                    secrets.openEnv(d.envSealed(), d.id()), d.allow(), key);
            Consumer<DeploySchema.Progress> progress = p -> note.accept(p.stage() + ": " + p.line());
            DeployResult result = rollbackTo == null
                    ? agents.worker(d.hostId()).deploySync(req, progress).get()
                    : agents.worker(d.hostId()).deployRollback(new RollbackRequest(d.name(), rollbackTo, key), progress).get();
            // A rollback pins the deployment against the head it left; any other deploy follows the branch again.
            deployments.pin(id, rollbackTo == null ? null : d.pinnedAgainst() != null ? d.pinnedAgainst() : d.commit());
            note.accept("deployed " + result.commit());
            exposure.running(id, result.services(), note);
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
            note.accept("failed: " + error);
            deploys.finish(run.id(), Deploys.FAILED, null, error);
            deployments.state(id, Deployments.FAILED, error);
            events.state(id, Deployments.FAILED, d.commit(), error);
            LOG.info("deploy of {} failed: {}", d.name(), error);
            finished(d, run, rollbackTo, Deploys.FAILED, error);
        }
    }

    /** A line of the deploy {@code deployId}: stored in its log and sent to followers; without a deploy, logged. */
    void note(String deploymentId, String deployId, String line) {
        if (deployId != null) {
            deploys.log(deployId, line);
            events.line(deploymentId, deployId, line);
        } else {
            LOG.info(line);
        }
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
}
