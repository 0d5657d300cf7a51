package dev.hostdeploy.manager.containers;

import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerView;
import dev.hostdeploy.manager.containers.ContainerApi.NewContainer;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.manager.users.Users;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Accepting a create request: its owner, image, size and keys resolved and checked, the quota checked,
 * a host chosen and the record inserted, all before any agent is asked to change anything; the work
 * itself is then queued as the create job ({@link ContainerJobs#runCreate}). Apart from the facade so
 * that the checks a create must pass read in one place.
 */
final class ContainerCreation {
    private final ContainerOps ops;
    private final UserService users;
    private final ContainerSettings settings;
    private final Placement placement;
    private final ContainerJobs containerJobs;
    private final Executor work;

    ContainerCreation(ContainerOps ops, UserService users, ContainerSettings settings, Placement placement,
                      ContainerJobs containerJobs, Executor work) {
        this.ops = ops;
        this.users = users;
        this.settings = settings;
        this.placement = placement;
        this.containerJobs = containerJobs;
        this.work = work;
    }

    CompletableFuture<ContainerView> create(Caller caller, NewContainer req, String actor) {
        Users.User owner = owner(caller, req.owner());
        String image = req.image() != null ? req.image() : settings.defaultImage();
        if (image == null) {
            throw ProtocolException.invalid("image", "is required (this Manager has no --default-image)");
        }
        String sizeName = req.size() != null ? req.size() : settings.defaultSize();
        ContainerSize size = settings.sizes().get(sizeName);
        if (size == null) {
            throw ProtocolException.invalid("size", "must be one of " + new TreeSet<>(settings.sizes().keySet()));
        }
        List<String> keys = req.sshKeys() != null ? req.sshKeys() : users.keys(owner.id());
        if (keys.isEmpty()) {
            throw ProtocolException.invalid("sshKeys", "no keys given, and none set with PUT /api/v1/me/keys");
        }
        synchronized (placement.lock) {
            placement.checkQuota(owner.id(), size);
        }
        List<HostAgents> candidates = placement.candidates(image);
        List<CompletableFuture<Optional<HostStats>>> stats = placement.stats(candidates);
        return CompletableFuture.allOf(stats.toArray(CompletableFuture[]::new)).thenApplyAsync(v -> {
            Container c;
            synchronized (placement.lock) {
                placement.checkQuota(owner.id(), size);
                String best = placement.best(candidates, stats, size, image);
                String id = Store.newId();
                String instance = "m-" + owner.id().substring(0, Math.min(8, owner.id().length())) + "-" + req.name();
                c = ops.repo.insert(id, req.name(), owner.id(), owner.name(), best, instance, image, size, keys);
            }
            Operation op = ops.begin(c, "create", actor);
            ops.note(c.id(), op.id(), "placed on host " + c.hostId() + " as " + c.instance());
            ops.jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> containerJobs.runCreate(c.id(), op.id()));
            return ops.view(c, op.id());
        }, work);
    }

    private Users.User owner(Caller caller, String requested) {
        if (requested == null || requested.equals(caller.id()) || requested.equals(caller.name())) {
            return users.require(caller.id());
        }
        if (!caller.admin()) {
            throw ProtocolException.invalid("owner", "only an admin may create a container for another user");
        }
        return users.find(requested).orElseThrow(() -> ProtocolException.invalid("owner", "no user " + requested));
    }
}
