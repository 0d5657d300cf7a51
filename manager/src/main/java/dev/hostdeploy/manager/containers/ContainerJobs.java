package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.containers.ContainerOps.get;
import static dev.hostdeploy.manager.containers.ContainerOps.interrupted;
import static dev.hostdeploy.manager.containers.ContainerOps.pause;
import static dev.hostdeploy.manager.containers.ContainerOps.state;
import static dev.hostdeploy.manager.agents.AgentErrors.message;
import static dev.hostdeploy.manager.containers.ContainerService.notFound;
import static dev.hostdeploy.manager.containers.ContainerService.owner;
import static dev.hostdeploy.manager.containers.ContainerService.target;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerView;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.Proto;
import dev.hostdeploy.schema.lxc.LxcSchema.CreateRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Created;
import dev.hostdeploy.schema.lxc.LxcSchema.ExposeRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The create, delete and offboard jobs. A create allocates an SSH port, has the Worker create the container
 * and expose the port, then has the Guardian open it under the owner {@code container/ID}; a failure on the
 * way undoes each step done, in reverse ({@link #rollback}).
 */
final class ContainerJobs {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerJobs.class);
    private final ContainerOps ops;
    private final Containers repo;
    private final AgentRegistry agents;
    private final JobRunner jobs;
    private final AuditLog audit;
    private final ContainerSettings settings;
    private final ContainerDomains domains;
    private final HostPorts ports;

    ContainerJobs(ContainerOps ops, AuditLog audit, ContainerSettings settings, ContainerDomains domains) {
        this.ops = ops;
        this.repo = ops.repo;
        this.agents = ops.agents;
        this.jobs = ops.jobs;
        this.audit = audit;
        this.settings = settings;
        this.domains = domains;
        this.ports = new HostPorts(ops);
    }

    void runCreate(String id, String opId) {
        Container c = repo.find(id).orElse(null);
        if (c == null) {
            return;
        }
        try {
            // The port is exposed with the container, so a port some host process holds fails the create
            // and the next port is tried.
            HostPorts.Bound<Created> bound = ports.bind(c, opId, settings.portMin(), settings.portMax(),
                    p -> repo.set(id, "sshPort", p), p -> createInstance(c, opId, p));
            int port = bound.port();
            Created created = bound.result();
            ops.note(c.id(), opId, "lxc: created (ssh " + created.ssh() + ")");
            if (created.sshExposed() == null) {
                // A Worker from before lxc.create took the port: expose it as a step of its own.
                get(agents.worker(c.hostId()).lxcSshExpose(new ExposeRequest(c.instance(), port, null)));
            }
            ops.note(c.id(), opId, "lxc: ssh exposed on port " + port);
            get(agents.guardian(c.hostId()).open(RuleData.port(Proto.TCP, port, owner(c))));
            repo.set(id, "portOpen", true);
            ops.note(c.id(), opId, "firewall: opened tcp " + port);
            ops.setState(id, state(created.status()), null);
            repo.end(opId, Containers.OP_SUCCEEDED, null);
            LOG.info("container {} of {} created on host {}, ssh port {}", c.name(), c.ownerName(), c.hostId(), port);
        } catch (RuntimeException e) {
            if (jobs.closing() || interrupted(e)) {
                // The Manager is stopping: the next start rolls this create back.
                Thread.currentThread().interrupt();
                return;
            }
            // A step of the rollback may meet LXD still busy with the failed create's own cleanup.
            for (int attempt = 0; attempt < 10 && !rollback(id, opId, message(e)); attempt++) {
                if (!pause(Duration.ofSeconds(2))) {
                    return;
                }
            }
        }
    }

    /** lxc.create with the size's limits, the keys and the port; twice more after a failed start. */
    private Created createInstance(Container c, String opId, int port) {
        // The port is exposed with the container (one change less to a running one).
        CreateRequest request = new CreateRequest(c.instance(), c.image(), owner(c), c.sshKeys(),
                settings.sizes().get(c.size()).limits(), port, null);
        for (int attempt = 0; ; attempt++) {
            try {
                return get(agents.worker(c.hostId()).lxcCreate(request,
                        p -> ops.note(c.id(), opId, "lxc: " + p.step())));
            } catch (RuntimeException e) {
                if (attempt >= 2 || !transientFailure(e)) {
                    throw e;
                }
                // LXD sometimes fails a start when several run at once (forkstart ... exit status 1), and the
                // Worker's own cleanup may still be stopping what it made: remove that, then try again.
                ops.note(c.id(), opId, "lxc: failed (" + message(e) + "); trying again");
                if (!pause(Duration.ofSeconds(2)) || !removeInstance(c)) {
                    throw e;
                }
            }
        }
    }

    /** Removes the container's LXD instance if there is one, waiting while LXD is busy with it; false if it stays. */
    private boolean removeInstance(Container c) {
        for (int attempt = 0; attempt < 15; attempt++) {
            try {
                get(agents.worker(c.hostId()).lxcDelete(c.instance(), true));
                return true;
            } catch (RuntimeException e) {
                if (notFound(e)) {
                    return true;
                }
                if (!pause(Duration.ofSeconds(1))) {
                    return false;
                }
            }
        }
        return false;
    }

    /** A failure of lxc.create worth one more try: not bad input, not a name taken, not an agent away. */
    private static boolean transientFailure(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof AgentCallException a && a.error().field() == null && a.code() != ErrorCode.CONFLICT
                && a.code() != ErrorCode.NOT_FOUND && a.code() != ErrorCode.UNAVAILABLE
                && a.code() != ErrorCode.TIMEOUT;
    }

    /**
     * Undoes a create, each step whether or not it was reached: the port closed, the container removed, the
     * port freed, the record dropped. A step that cannot be done yet (an agent away) leaves the record in
     * {@code creating} with the error, for the next start to retry; nothing is freed before what uses it is gone.
     */
    boolean rollback(String id, String opId, String error) {
        Container c = repo.find(id).orElse(null);
        if (c == null) {
            return true;
        }
        ops.note(c.id(), opId, "failed: " + error + "; rolling back");
        try {
            get(agents.guardian(c.hostId()).close(Close.owner(owner(c))));
            ops.note(c.id(), opId, "rollback: firewall closed");
            try {
                get(agents.worker(c.hostId()).lxcDelete(c.instance(), true));
                ops.note(c.id(), opId, "rollback: container removed");
            } catch (RuntimeException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            repo.freePorts(id);
            repo.delete(id);
            repo.end(opId, Containers.OP_ROLLED_BACK, error);
            ops.events.forget(id);
            LOG.info("create of container {} of {} failed and was rolled back: {}", c.name(), c.ownerName(), error);
            return true;
        } catch (RuntimeException e) {
            String left = error + "; rollback incomplete: " + message(e);
            ops.setState(id, Containers.CREATING, left);
            ops.note(c.id(), opId, "rollback incomplete, retried at the next start: " + message(e));
            LOG.warn("container {}: {}", c.instance(), left);
            return false;
        }
    }

    void runDelete(String id, String opId) {
        Container c = repo.find(id).orElse(null);
        if (c == null) {
            repo.end(opId, Containers.OP_SUCCEEDED, null);
            return;
        }
        try {
            domains.unrouteAll(c, opId);
            get(agents.guardian(c.hostId()).close(Close.owner(owner(c))));
            repo.set(id, "portOpen", false);
            ops.note(c.id(), opId, "firewall: closed");
            try {
                get(agents.worker(c.hostId()).lxcDelete(c.instance(), true));
            } catch (RuntimeException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            ops.note(c.id(), opId, "lxc: removed");
            // Freed only once the container (and its proxy devices) is gone, so the next one can bind them.
            domains.releaseAll(id);
            repo.freePorts(id);
            repo.delete(id);
            ops.note(c.id(), opId, "port freed, record removed");
            repo.end(opId, Containers.OP_SUCCEEDED, null);
            ops.events.forget(id);
        } catch (RuntimeException e) {
            if (jobs.closing() || interrupted(e)) {
                Thread.currentThread().interrupt();
                return;
            }
            ops.setState(id, Containers.DELETING, "delete failed (DELETE again to retry): " + message(e));
            repo.end(opId, Containers.OP_FAILED, message(e));
        }
    }

    /**
     * A member left: each of their containers is stopped and its port closed, and it is deleted after the
     * grace period unless an admin keeps it. Audited per container. The future completes when all are done.
     */
    CompletableFuture<List<ContainerView>> offboard(String userId, String actor) {
        List<CompletableFuture<ContainerView>> each = new ArrayList<>();
        Instant deleteAfter = Instant.now().plus(settings.grace());
        for (Container c : repo.byOwner(userId)) {
            if (Containers.DELETING.equals(c.state())) {
                continue;
            }
            each.add(jobs.call(c.id(), () -> {
                Operation op = ops.begin(c, "offboard", actor);
                Container now = repo.find(c.id()).orElse(null);
                if (now == null) {
                    repo.end(op.id(), Containers.OP_SUCCEEDED, "already deleted");
                    return null;
                }
                String error = domains.offboard(c, op.id());
                try {
                    get(agents.guardian(c.hostId()).close(Close.owner(owner(c))));
                    repo.set(c.id(), "portOpen", false);
                    ops.note(c.id(), op.id(), "firewall: closed port " + c.sshPort());
                } catch (RuntimeException e) {
                    error = "the port could not be closed yet (the Guardian's next reconnect closes it): " + message(e);
                    repo.set(c.id(), "portOpen", false);
                    ops.note(c.id(), op.id(), error);
                }
                try {
                    get(agents.worker(c.hostId()).lxcStop(c.instance(), true));
                    ops.note(c.id(), op.id(), "lxc: stopped");
                } catch (RuntimeException e) {
                    if (!notFound(e)) {
                        error = (error == null ? "" : error + "; ") + "not stopped: " + message(e);
                        ops.note(c.id(), op.id(), "lxc: not stopped: " + message(e));
                    }
                }
                ops.setState(c.id(), Containers.STOPPED, error);
                repo.set(c.id(), "deleteAfter", deleteAfter);
                repo.end(op.id(), error == null ? Containers.OP_SUCCEEDED : Containers.OP_FAILED, error);
                audit.record(actor, "container.offboard", target(c), error == null ? "ok" : "partial", null);
                return ops.view(repo.find(c.id()).orElseThrow(), op.id());
            }));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> each.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList());
    }

    /** Marks the container for deletion and queues the delete job (not while it is still being created). */
    ContainerView scheduleDelete(Container c, String actor) {
        if (Containers.CREATING.equals(c.state())) {
            throw ProtocolException.conflict("the container is still being created; delete it once that is done");
        }
        ops.setState(c.id(), Containers.DELETING, c.lastError());
        Operation op = ops.begin(c, "delete", actor);
        jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> runDelete(c.id(), op.id()));
        return ops.view(repo.find(c.id()).orElseThrow(), op.id());
    }

    /** Deletes the offboarded containers past their grace period; returns how many deletions were queued. */
    int purge() {
        int n = 0;
        for (Container c : repo.dueForDeletion(Instant.now())) {
            if (c.kept() || Containers.BUSY.contains(c.state())) {
                continue;
            }
            audit.record("manager", "container.purge", target(c), "ok", null);
            scheduleDelete(c, "purge");
            n++;
        }
        return n;
    }
}
