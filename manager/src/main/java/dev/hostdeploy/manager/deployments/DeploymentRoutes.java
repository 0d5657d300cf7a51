package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.deployments.Deployments.NewDeployment;
import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.jobs.Deploys.Trigger;
import dev.hostdeploy.protocol.Validation;
import java.util.List;

/** {@code /deployments}: admins create, redeploy and delete; members may read. */
public final class DeploymentRoutes implements RouteGroup {
    private static final String ONE = API + "/deployments/{name}";

    private final DeploymentService deployments;

    public DeploymentRoutes(DeploymentService deployments) {
        this.deployments = deployments;
    }

    @Override
    public List<Route> routes() {
        return List.of(
                Route.get(API + "/deployments").member()
                        .doc("listDeployments", "Deployments with their state, commit, services and last deploy")
                        .query("host", "string", "only this host's (name or id)")
                        .query("state", "string", "pending, deploying, running, failed or stopped")
                        .returns("Deployment[]")
                        .handle(ctx -> ctx.json(deployments.list(ctx.queryParam("host"), ctx.queryParam("state")))),
                Route.post(API + "/deployments")
                        .doc("createDeployment", "Name an org repo once: stored, then its first deploy runs as a job")
                        .audit("deployment.create").body("NewDeployment").returns(202, "Deployment").handle(ctx -> {
                            NewDeployment req = Requests.body(ctx, NewDeployment.class);
                            Requests.target(ctx, "deployment/" + req.name());
                            ctx.status(202).json(deployments.create(req, Requests.actor(ctx)));
                        }),
                Route.get(ONE).member().doc("getDeployment", "One deployment, by name or id").returns("Deployment")
                        .handle(ctx -> ctx.json(deployments.get(ctx.pathParam("name")))),
                Route.delete(ONE)
                        .doc("deleteDeployment", "Remove the compose project (named volumes kept unless volumes=true), "
                                + "close its ports and forget it")
                        .query("volumes", "boolean", "also remove the project's named volumes")
                        .audit("deployment.delete").noContent().handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            boolean volumes = "true".equals(ctx.queryParam("volumes"));
                            var deleting = deployments.delete(ctx.pathParam("name"), volumes);
                            ctx.future(() -> deleting.thenAccept(d -> ctx.status(204)));
                        }),
                Route.post(ONE + "/redeploy")
                        .doc("redeployDeployment", "Deploy the branch's newest commit now (queued behind a running deploy)")
                        .audit("deployment.redeploy").returns(202, "Deployment").handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            ctx.status(202).json(deployments.redeploy(ctx.pathParam("name"), Trigger.MANUAL,
                                    Requests.actor(ctx)));
                        }),
                Route.get(ONE + "/deploys").member()
                        .doc("listDeploys", "The deployment's deploy history, newest first")
                        .query("limit", "integer", "at most this many (1-500, default 50)")
                        .returns("Deploy[]").handle(ctx -> {
                            String raw = ctx.queryParam("limit");
                            int limit;
                            try {
                                limit = raw == null ? 50 : Integer.parseInt(raw);
                            } catch (NumberFormatException e) {
                                limit = -1;
                            }
                            Validation.require(limit >= 1 && limit <= 500, "limit", "must be 1-500");
                            ctx.json(deployments.history(ctx.pathParam("name"), limit));
                        }),
                Route.get(ONE + "/deploys/{id}/log").member()
                        .doc("getDeployLog", "One deploy's log lines: git and compose output, ports, outcome")
                        .returns("DeployLog")
                        .handle(ctx -> ctx.json(deployments.deployLog(ctx.pathParam("name"), ctx.pathParam("id")))));
    }
}
