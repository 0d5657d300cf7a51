package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.agents.AgentErrors.message;
import static dev.hostdeploy.manager.containers.ContainerOps.idle;
import static dev.hostdeploy.manager.containers.ContainerOps.state;

import dev.hostdeploy.manager.containers.ContainerApi.ContainerKeys;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerView;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.KeysRequest;
import java.util.concurrent.CompletableFuture;

/**
 * The one-call operations on an existing container (power and SSH keys): each one Worker call, recorded
 * as an operation and run after any job in progress on the container, answered when done. Unlike the
 * jobs in {@link ContainerJobs} they have nothing to undo.
 */
final class ContainerActions {
    private final ContainerOps ops;

    ContainerActions(ContainerOps ops) {
        this.ops = ops;
    }

    /** {@code start}, {@code stop} or {@code restart}, after any job in progress on the container. */
    CompletableFuture<ContainerView> power(Caller caller, String id, String action, String actor) {
        Container c = idle(ops.visible(caller, id));
        return ops.jobs.call(c.id(), () -> {
            Operation op = ops.begin(c, action, actor);
            try {
                LxcSchema.Container after = switch (action) {
                    case "start" -> ContainerOps.get(ops.agents.worker(c.hostId()).lxcStart(c.instance()));
                    case "stop" -> ContainerOps.get(ops.agents.worker(c.hostId()).lxcStop(c.instance(), false));
                    default -> ContainerOps.get(ops.agents.worker(c.hostId()).lxcRestart(c.instance()));
                };
                ops.setState(c.id(), state(after.status()), null);
                ops.repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return ops.view(ops.repo.find(c.id()).orElseThrow(), op.id());
            } catch (RuntimeException e) {
                ops.repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }

    CompletableFuture<ContainerView> setKeys(Caller caller, String id, ContainerKeys keys, String actor) {
        Container c = idle(ops.visible(caller, id));
        return ops.jobs.call(c.id(), () -> {
            Operation op = ops.begin(c, "keys", actor);
            try {
                ContainerOps.get(ops.agents.worker(c.hostId()).lxcKeysSet(new KeysRequest(c.instance(), keys.sshKeys())));
                ops.repo.set(c.id(), "sshKeys", keys.sshKeys());
                ops.repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return ops.view(ops.repo.find(c.id()).orElseThrow(), op.id());
            } catch (RuntimeException e) {
                ops.repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }
}
