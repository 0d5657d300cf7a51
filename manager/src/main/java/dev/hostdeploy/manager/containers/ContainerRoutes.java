package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.http.SseHub;
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
                            ContainerApi.NewContainer req = Requests.body(ctx, ContainerApi.NewContainer.class);
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
                            ContainerApi.ContainerKeys keys = Requests.body(ctx, ContainerApi.ContainerKeys.class);
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
                Route.get(one + "/events").member()
                        .doc("followContainer", "Server-Sent Events: the container's operations (event operation), their "
                                + "steps as recorded (event step; the current operation's steps so far first) and its state "
                                + "changes (event state)")
                        .returns("text").handle(ctx -> {
                            var caller = Requests.caller(ctx);
                            String id = ctx.pathParam("id");
                            containers.requireVisible(caller, id);
                            SseHub.open(ctx, client -> containers.follow(caller, id, client));
                        }),
                Route.post(one + "/snapshots").member().doc("createSnapshot", "Take a snapshot of the container")
                        .audit("container.snapshot").body("NewSnapshot").returns(201, "Snapshot").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            var req = Requests.body(ctx, ContainerApi.NewSnapshot.class);
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.snapshotCreate(Requests.caller(ctx), ctx.pathParam("id"), req, actor)
                                    .thenAccept(s -> ctx.status(201).json(s)));
                        }),
                Route.get(one + "/snapshots").member().doc("listSnapshots", "The container's snapshots, oldest first")
                        .returns("SnapshotList").handle(ctx -> ctx.future(() -> containers.snapshots(Requests.caller(ctx),
                                ctx.pathParam("id")).thenAccept(ctx::json))),
                Route.post(one + "/snapshots/{snapshot}/restore").member()
                        .doc("restoreSnapshot", "Put the container back to a snapshot").audit("container.snapshot.restore")
                        .returns("Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id") + "/snapshot/" + ctx.pathParam("snapshot"));
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.snapshotRestore(Requests.caller(ctx), ctx.pathParam("id"),
                                    ctx.pathParam("snapshot"), actor).thenAccept(ctx::json));
                        }),
                Route.delete(one + "/snapshots/{snapshot}").member().doc("deleteSnapshot", "Delete a snapshot")
                        .audit("container.snapshot.delete").noContent().handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id") + "/snapshot/" + ctx.pathParam("snapshot"));
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.snapshotDelete(Requests.caller(ctx), ctx.pathParam("id"),
                                    ctx.pathParam("snapshot"), actor).thenAccept(d -> ctx.status(204)));
                        }),
                Route.put(one + "/snapshots/schedule").member()
                        .doc("scheduleSnapshots", "LXD's scheduled snapshots of the container (cron or @daily) and their expiry")
                        .audit("container.snapshot.schedule").body("SnapshotSchedule").returns("Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            var req = Requests.body(ctx, ContainerApi.SnapshotSchedule.class);
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.snapshotSchedule(Requests.caller(ctx), ctx.pathParam("id"), req,
                                    actor).thenAccept(ctx::json));
                        }),
                Route.post(one + "/backups").member()
                        .doc("createBackup", "Back the container up on its host, as a job (progress on .../events)")
                        .audit("container.backup").returns(202, "Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            ctx.status(202).json(containers.backupCreate(Requests.caller(ctx), ctx.pathParam("id"),
                                    Requests.actor(ctx)));
                        }),
                Route.get(one + "/backups").member().doc("listBackups", "The container's backups, oldest first")
                        .returns("BackupList").handle(ctx -> ctx.future(() -> containers.backups(Requests.caller(ctx),
                                ctx.pathParam("id")).thenAccept(ctx::json))),
                Route.post(one + "/backups/{backup}/restore").member()
                        .doc("restoreBackup", "Restore a backup in place, or with {\"asName\"} as a new container of the "
                                + "same member (counted against the quota), as a job")
                        .audit("container.backup.restore").body("BackupRestore").returns(202, "Container").handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id") + "/backup/" + ctx.pathParam("backup"));
                            var req = ctx.body().isBlank() ? new ContainerApi.BackupRestore(null)
                                    : Requests.body(ctx, ContainerApi.BackupRestore.class);
                            ctx.status(202).json(containers.backupRestore(Requests.caller(ctx), ctx.pathParam("id"),
                                    ctx.pathParam("backup"), req, Requests.actor(ctx)));
                        }),
                Route.delete(one + "/backups/{backup}").member().doc("deleteBackup", "Delete a backup")
                        .audit("container.backup.delete").noContent().handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id") + "/backup/" + ctx.pathParam("backup"));
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.backupDelete(Requests.caller(ctx), ctx.pathParam("id"),
                                    ctx.pathParam("backup"), actor).thenAccept(d -> ctx.status(204)));
                        }),
                Route.get(one + "/domains").member()
                        .doc("listContainerDomains", "The container's domains (NAME.SUFFIX routed to a port of it)")
                        .returns("ContainerDomain[]")
                        .handle(ctx -> ctx.json(containers.domains(Requests.caller(ctx), ctx.pathParam("id")))),
                Route.post(one + "/domains").member()
                        .doc("addContainerDomain", "Route NAME.SUFFIX (--member-domain-suffix) over HTTPS to a port of "
                                + "the container, through the host's Caddy; counted in the member's quota")
                        .audit("container.domain.add").body("NewContainerDomain").returns(201, "ContainerDomain")
                        .handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id"));
                            var req = Requests.body(ctx, ContainerApi.NewDomain.class);
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.addDomain(Requests.caller(ctx), ctx.pathParam("id"), req, actor)
                                    .thenAccept(d -> {
                                        Requests.target(ctx, "container/" + ctx.pathParam("id") + "/domain/" + d.hostname());
                                        ctx.status(201).json(d);
                                    }));
                        }),
                Route.delete(one + "/domains/{name}").member()
                        .doc("removeContainerDomain", "Remove the container's domain: its route, port forward and claim")
                        .audit("container.domain.remove").noContent().handle(ctx -> {
                            Requests.target(ctx, "container/" + ctx.pathParam("id") + "/domain/" + ctx.pathParam("name"));
                            String actor = Requests.actor(ctx);
                            ctx.future(() -> containers.removeDomain(Requests.caller(ctx), ctx.pathParam("id"),
                                    ctx.pathParam("name"), actor).thenAccept(d -> ctx.status(204)));
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
