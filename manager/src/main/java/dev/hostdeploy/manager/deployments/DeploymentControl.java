package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.agents.AgentErrors.cause;
import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.jobs.Deploys;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveRequest;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import java.util.List;

/**
 * What changes a deployment's compose project without a deploy: stop, start and remove it at its Worker,
 * with its ports, routes, state and followers kept in step. Each runs on the deployment's job (the caller
 * queues it after any deploy in progress) and throws what the agent refused, for the request to answer.
 */
final class DeploymentControl {
    private final Deployments deployments;
    private final Deploys deploys;
    private final AgentRegistry agents;
    private final IngressService ingress;
    private final DeployEvents events;
    private final DeploymentExposure exposure;
    private final DeployRunner runner;

    DeploymentControl(Deployments deployments, Deploys deploys, AgentRegistry agents, IngressService ingress,
                      DeployEvents events, DeploymentExposure exposure, DeployRunner runner) {
        this.deployments = deployments;
        this.deploys = deploys;
        this.agents = agents;
        this.ingress = ingress;
        this.events = events;
        this.exposure = exposure;
        this.runner = runner;
    }

    /** Stops the services (containers kept); their ports close and their domains lose their routes. */
    Deployment stop(Deployment d) {
        try {
            agents.worker(d.hostId()).deployStop(d.name(), null).get();
        } catch (Exception e) {
            throw failure(e);
        }
        exposure.stopped(d, line -> runner.note(d.id(), null, line));
        deployments.state(d.id(), Deployments.STOPPED, null);
        events.state(d.id(), Deployments.STOPPED, d.commit(), null);
        return deployments.require(d.id());
    }

    /** Starts the services again; their ports reopen and their domains are routed to them. */
    Deployment start(Deployment d) {
        DeployResult r;
        try {
            r = agents.worker(d.hostId()).deployStart(d.name(), null).get();
        } catch (Exception e) {
            throw failure(e);
        }
        exposure.running(d.id(), r.services(), line -> runner.note(d.id(), null, line));
        deployments.deployed(d.id(), Deployments.RUNNING, r.commit(), r.services(), null);
        events.state(d.id(), Deployments.RUNNING, r.commit(), null);
        return deployments.require(d.id());
    }

    /**
     * Removes the compose project (named volumes kept unless {@code removeVolumes}), the domains' routes and
     * claims and the ports, then forgets the deployment and its history. When the Worker or Guardian cannot
     * do their part it throws, and the deployment stays (stopped, with the reason) to be deleted again.
     */
    Deployment delete(Deployment d, boolean removeVolumes) {
        try {
            agents.worker(d.hostId()).deployRemove(new RemoveRequest(d.name(), removeVolumes), null).get();
        } catch (Exception e) {
            if (!(cause(e) instanceof AgentCallException a && a.code() == ErrorCode.NOT_FOUND)) {
                throw failure(e);
            }
        }
        try {
            ingress.release(d.id(), d.hostId(), DeploymentService.owner(d));
            agents.guardian(d.hostId()).close(Close.owner(DeploymentService.owner(d))).get();
        } catch (Exception e) {
            deployments.openPorts(d.id(), List.of());
            deployments.state(d.id(), Deployments.STOPPED, "removed, but its ports are not closed yet: " + message(e));
            throw failure(e);
        }
        deployments.delete(d.id());
        deploys.deleteFor(d.id());
        events.forget(d.id());
        return d;
    }

    /** An agent's failure as the request's: its own exception when unchecked, else wrapped. */
    static RuntimeException failure(Exception e) {
        Throwable c = cause(e);
        return c instanceof RuntimeException r ? r : new IllegalStateException(c);
    }
}
