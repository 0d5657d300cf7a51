package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.deployments.Deployments.NewDeployment;
import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.http.SseHub;
import dev.hostdeploy.manager.jobs.Deploys.Trigger;
import dev.hostdeploy.protocol.Validation;
import dev.hostdeploy.schema.deploy.Rules;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** {@code /deployments}: admins create, redeploy and delete; members may read. */
public final class DeploymentRoutes implements RouteGroup {
    private static final String ONE = API + "/deployments/{name}";

    private final DeploymentService deployments;

    /** {@code POST .../rollback}: a commit (7-40 hex digits), or none for the previous successful one. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Rollback(String commit) {
        Rollback {
            if (commit != null) {
                Rules.commit(commit, "commit");
            }
        }
    }

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
                            ctx.status(202).json(deployments.create(req, Requests.actor(ctx),
                                    Requests.caller(ctx) != null && Requests.caller(ctx).admin()));
                        }),
                Route.post(API + "/deployments/poll")
                        .doc("pollDeployments", "One poll cycle now: ask every polled deployment's branch head (one "
                                + "repo.heads per host) and redeploy those whose commit changed; answers when all hosts did")
                        .audit("deployment.poll").returns("PollReport").handle(ctx -> {
                            var polling = deployments.pollNow();
                            ctx.future(() -> polling.thenAccept(ctx::json));
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
                Route.patch(ONE)
                        .doc("updateDeployment", "Change ref, composePath, env (replaces all), pollInterval or domains "
                                + "(replaces all); a change of ref, composePath or env deploys at once")
                        .audit("deployment.update").body("DeploymentPatch").returns("Deployment").handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            Deployments.DeploymentPatch patch = Requests.body(ctx, Deployments.DeploymentPatch.class);
                            // Domains first: they are checked (422, 400) before anything changes, then queued
                            // as a job that answers once the routes are set, off the request thread.
                            var routing = patch.domains() == null ? null : deployments.domains(ctx.pathParam("name"),
                                    patch.domains(), Requests.caller(ctx) != null && Requests.caller(ctx).admin());
                            var patched = deployments.patch(ctx.pathParam("name"), patch, Requests.actor(ctx));
                            if (routing == null) {
                                ctx.json(patched);
                            } else {
                                ctx.future(() -> routing.thenAccept(ctx::json));
                            }
                        }),
                Route.post(ONE + "/rollback")
                        .doc("rollbackDeployment", "Deploy an earlier commit (by default the newest earlier one that "
                                + "deployed successfully); the poller leaves it there until the branch moves")
                        .audit("deployment.rollback").body("DeploymentRollback").returns(202, "Deployment").handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            Rollback body = ctx.bodyAsBytes().length == 0 ? new Rollback(null)
                                    : Requests.body(ctx, Rollback.class);
                            ctx.status(202).json(deployments.rollback(ctx.pathParam("name"), body.commit(),
                                    Requests.actor(ctx)));
                        }),
                Route.post(ONE + "/deploy-key")
                        .doc("rotateDeployKey", "Generate a new deploy key (the repo is then fetched over SSH with it); "
                                + "the reply shows its public key to add on GitHub, the private key is never shown")
                        .audit("deployment.deploy-key").returns("Deployment").handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            ctx.json(deployments.rotateDeployKey(ctx.pathParam("name")));
                        }),
                Route.post(ONE + "/stop")
                        .doc("stopDeployment",
                                "Stop the services (containers kept), close their ports and remove their domains' routes")
                        .audit("deployment.stop").returns("Deployment").handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            var stopping = deployments.stop(ctx.pathParam("name"));
                            ctx.future(() -> stopping.thenAccept(ctx::json));
                        }),
                Route.post(ONE + "/start")
                        .doc("startDeployment",
                                "Start a stopped deployment's services, reopen their ports and route its domains again")
                        .audit("deployment.start").returns("Deployment").handle(ctx -> {
                            Requests.target(ctx, "deployment/" + ctx.pathParam("name"));
                            var starting = deployments.start(ctx.pathParam("name"));
                            ctx.future(() -> starting.thenAccept(ctx::json));
                        }),
                Route.get(ONE + "/logs").member()
                        .doc("getDeploymentLogs", "The running services' own output, oldest first per container")
                        .query("service", "string", "one compose service")
                        .query("tail", "integer", "lines per container (1-10000, default 100)")
                        .query("since", "string", "an ISO-8601 instant or an age like 10m")
                        .query("follow", "boolean", "stream as Server-Sent Events (event line, data a log line), "
                                + "the tail first, then new lines until the client disconnects")
                        .returns("DeploymentLogs").handle(ctx -> {
                            String tail = ctx.queryParam("tail");
                            Integer lines;
                            try {
                                lines = tail == null ? null : Integer.valueOf(tail);
                            } catch (NumberFormatException e) {
                                throw dev.hostdeploy.protocol.ProtocolException.invalid("tail", "must be a number");
                            }
                            if ("true".equals(ctx.queryParam("follow"))) {
                                // Checked before the stream opens, so a bad request is an ordinary error reply.
                                var follower = deployments.logFollower(ctx.pathParam("name"), ctx.queryParam("service"),
                                        lines, ctx.queryParam("since"));
                                SseHub.open(ctx, follower);
                                return;
                            }
                            var logs = deployments.logs(ctx.pathParam("name"), ctx.queryParam("service"), lines,
                                    ctx.queryParam("since"));
                            ctx.future(() -> logs.thenAccept(ctx::json));
                        }),
                Route.get(ONE + "/events").member()
                        .doc("followDeployment", "Server-Sent Events: the running deploy's progress lines (the lines so "
                                + "far first, event line), each deploy's start (event deploy) and state changes (event state)")
                        .returns("text").handle(ctx -> {
                            deployments.require(ctx.pathParam("name"));
                            SseHub.open(ctx, client -> deployments.follow(ctx.pathParam("name"), client));
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
