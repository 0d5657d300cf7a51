package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.agents.AgentErrors.cause;
import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.jobs.Deploys;
import dev.hostdeploy.manager.jobs.Deploys.Deploy;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.schema.deploy.DeploySchema.Status;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.TimeUnit;

/**
 * Deploys a previous Manager left running (it stopped or died mid-deploy): each takes the outcome the
 * Worker reports for it ({@code deploy.status}), asked again for a while since the Worker may still be
 * finishing the sync; only when the Worker cannot say is the deploy marked failed, with the reason. Apart
 * from {@link DeployRunner} because it runs once per interrupted deploy at start, never for a new one.
 */
final class DeployRecovery {
    private final Deployments deployments;
    private final Deploys deploys;
    private final AgentRegistry agents;
    private final DeploymentExposure exposure;
    private final DeployRunner runner;
    private final Duration wait;

    DeployRecovery(Deployments deployments, Deploys deploys, AgentRegistry agents, DeploymentExposure exposure,
                   DeployRunner runner, Duration wait) {
        this.deployments = deployments;
        this.deploys = deploys;
        this.agents = agents;
        this.exposure = exposure;
        this.runner = runner;
        this.wait = wait;
    }

    void recover(Deploy interrupted) {
        Deployment d = deployments.find(interrupted.deploymentId()).orElse(null);
        if (d == null) {
            deploys.finish(interrupted.id(), Deploys.FAILED, null, "the deployment was deleted");
            return;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        String reason;
        while (true) {
            try {
                Status s = agents.worker(d.hostId()).deployStatus(d.name()).get();
                if (s.updatedAt() != null && !parse(s.updatedAt()).isBefore(interrupted.startedAt())) {
                    deploys.log(interrupted.id(), "the Manager restarted during this deploy; the worker reports: "
                            + s.status() + (s.lastError() == null ? "" : " (" + s.lastError() + ")"));
                    if ("running".equals(s.status()) && s.lastError() == null) {
                        exposure.running(d.id(), s.services(), line -> runner.note(d.id(), interrupted.id(), line));
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

    private static Instant parse(String at) {
        try {
            return Instant.parse(at);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }
}
