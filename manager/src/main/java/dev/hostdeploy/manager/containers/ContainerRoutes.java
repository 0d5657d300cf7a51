package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import java.util.List;

/** {@code /containers} and {@code /me/usage}: members' own containers; an admin sees and acts on all. */
public final class ContainerRoutes implements RouteGroup {
    private final ContainerService containers;

    public ContainerRoutes(ContainerService containers) {
        this.containers = containers;
    }

    @Override
    public List<Route> routes() {
        String one = API + "/containers/{id}";
        return List.of(
                Route.get(API + "/me/usage").member()
                        .doc("getMyUsage", "The caller's containers, CPUs, memory and disk in use against their quota")
                        .returns("Usage").handle(ctx -> ctx.json(containers.usage(Requests.caller(ctx).id()))),
                Route.get(API + "/containers").member()
                        .doc("listContainers", "The caller's containers (an admin: everyone's)").returns("Container[]")
                        .handle(ctx -> ctx.json(containers.list(Requests.caller(ctx)))),
                Route.post(API + "/containers").member()
                        .doc("createContainer", "Create a container with SSH access; placed at once, made as a job")
                        .audit("container.create").body("NewContainer").returns(202, "Container").handle(ctx -> {
                            ContainerService.NewContainer req = Requests.body(ctx, ContainerService.NewContainer.class);
                            Requests.target(ctx, "container/" + req.name());
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.create(Requests.caller(ctx), req, actor).thenAccept(c -> {
                                Requests.target(ctx, "container/" + c.owner() + "/" + c.name());
                                ctx.status(202).json(c);
                            }));
                        }),
                Route.get(one).member().doc("getContainer", "One container").returns("Container")
                        .handle(ctx -> ctx.json(containers.get(Requests.caller(ctx), ctx.pathParam("id")))),
                Route.get(one + "/operations").member()
                        .doc("listContainerOperations", "The container's operations with their steps, newest first")
                        .returns("ContainerOperation[]")
                        .handle(ctx -> ctx.json(containers.operations(Requests.caller(ctx), ctx.pathParam("id")))),
                power("start"), power("stop"), power("restart"),
                Route.put(one + "/keys").member().doc("setContainerKeys", "Replace the SSH keys of a container")
                        .audit("container.keys").body("ContainerKeys").returns("Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            ContainerService.ContainerKeys keys = Requests.body(ctx, ContainerService.ContainerKeys.class);
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.setKeys(Requests.caller(ctx), ctx.pathParam("id"), keys, actor)
                                    .thenAccept(ctx::json));
                        }),
                Route.delete(one).member()
                        .doc("deleteContainer", "Close the container's port, remove it and free the port, as a job")
                        .audit("container.delete").returns(202, "Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            ctx.status(202).json(containers.delete(Requests.caller(ctx), ctx.pathParam("id"),
                                    Requests.actor(ctx)));
                        }),
                Route.post(one + "/keep")
                        .doc("keepContainer", "Keep an offboarded member's container: it is not deleted after the grace period")
                        .audit("container.keep").returns("Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            ctx.json(containers.keep(ctx.pathParam("id")));
                        }));
    }

    private Route power(String action) {
        return Route.post(API + "/containers/{id}/" + action).member()
                .doc(action + "Container", action.substring(0, 1).toUpperCase() + action.substring(1) + " a container")
                .audit("container." + action).returns("Container").handle(ctx -> {
                    Requests.target(ctx, "container/" + ctx.pathParam("id"));
                    String actor = Requests.actor(ctx);
                    ctx.future(() -> containers.power(Requests.caller(ctx), ctx.pathParam("id"), action, actor)
                            .thenAccept(ctx::json));
                });
    }
}
