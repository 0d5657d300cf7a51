package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.containers.ContainerOps.get;
import static dev.hostdeploy.manager.containers.ContainerOps.idle;
import static dev.hostdeploy.manager.containers.ContainerOps.interrupted;
import static dev.hostdeploy.manager.containers.ContainerOps.pause;
import static dev.hostdeploy.manager.containers.ContainerOps.state;
import static dev.hostdeploy.manager.agents.AgentErrors.message;
import static dev.hostdeploy.manager.containers.ContainerService.owner;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.containers.ContainerApi.BackupRestore;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerView;
import dev.hostdeploy.manager.containers.ContainerApi.NewSnapshot;
import dev.hostdeploy.manager.containers.ContainerApi.SnapshotSchedule;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.Proto;
import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.ExposeRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A container's snapshots (LXD's, on its host) and backups (files the Worker writes), each as a recorded operation. */
final class SnapshotsAndBackups {
    private final ContainerOps ops;
    private final Containers repo;
    private final AgentRegistry agents;
    private final JobRunner jobs;
    private final ContainerSettings settings;
    private final Placement placement;
    private final ContainerDomains domains;
    private final ContainerJobs containerJobs;
    private final HostPorts ports;

    SnapshotsAndBackups(ContainerOps ops, ContainerSettings settings, Placement placement, ContainerDomains domains,
                        ContainerJobs containerJobs) {
        this.ops = ops;
        this.repo = ops.repo;
        this.agents = ops.agents;
        this.jobs = ops.jobs;
        this.settings = settings;
        this.placement = placement;
        this.domains = domains;
        this.containerJobs = containerJobs;
        this.ports = new HostPorts(ops);
    }

    CompletableFuture<LxcSchema.Snapshot> snapshotCreate(Caller caller, String id, NewSnapshot req, String actor) {
        Container c = idle(ops.visible(caller, id));
        return quick(c, "snapshot", actor, op -> {
            LxcSchema.Snapshot snap = get(agents.worker(c.hostId()).lxcSnapshotCreate(
                    new LxcSchema.SnapshotRequest(c.instance(), req.name())));
            ops.note(c.id(), op, "snapshot " + snap.name() + " taken");
            return snap;
        });
    }

    CompletableFuture<LxcSchema.SnapshotList> snapshots(Caller caller, String id) {
        Container c = idle(ops.visible(caller, id));
        return agents.worker(c.hostId()).lxcSnapshotList(c.instance());
    }

    CompletableFuture<ContainerView> snapshotRestore(Caller caller, String id, String snapshot, String actor) {
        LxcRules.snapshot(snapshot, "snapshot");
        Container c = idle(ops.visible(caller, id));
        return quick(c, "snapshot-restore", actor, op -> {
            LxcSchema.Container after = get(agents.worker(c.hostId()).lxcSnapshotRestore(
                    new LxcSchema.SnapshotRequest(c.instance(), snapshot)));
            ops.note(c.id(), op, "restored snapshot " + snapshot);
            domains.reexposeDomains(c, op);
            ops.setState(c.id(), state(after.status()), null);
            return ops.view(repo.find(c.id()).orElseThrow(), op);
        });
    }

    CompletableFuture<LxcSchema.SnapshotDeleted> snapshotDelete(Caller caller, String id, String snapshot,
                                                                      String actor) {
        LxcRules.snapshot(snapshot, "snapshot");
        Container c = idle(ops.visible(caller, id));
        return quick(c, "snapshot-delete", actor, op -> get(agents.worker(c.hostId()).lxcSnapshotDelete(
                new LxcSchema.SnapshotRequest(c.instance(), snapshot))));
    }

    CompletableFuture<ContainerView> snapshotSchedule(Caller caller, String id, SnapshotSchedule req,
                                                             String actor) {
        Container c = idle(ops.visible(caller, id));
        return quick(c, "snapshot-schedule", actor, op -> {
            get(agents.worker(c.hostId()).lxcSnapshotSchedule(new LxcSchema.ScheduleRequest(c.instance(),
                    req.schedule(), req.expiry())));
            return ops.view(repo.find(c.id()).orElseThrow(), op);
        });
    }

    /** A backup, as a job: 202 with the operation; its progress on {@code .../events}, its record in {@code .../operations}. */
    ContainerView backupCreate(Caller caller, String id, String actor) {
        Container c = idle(ops.visible(caller, id));
        Operation op = ops.begin(c, "backup", actor);
        jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
            try {
                LxcSchema.BackupCreated b = get(agents.worker(c.hostId()).lxcBackupCreate(c.instance(),
                        p -> ops.note(c.id(), op.id(), "backup: " + p.step())));
                ops.note(c.id(), op.id(), "backup " + b.backup() + " written (" + b.size() + " bytes, sha256 " + b.sha256() + ")");
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
            } catch (RuntimeException e) {
                ops.note(c.id(), op.id(), "failed: " + message(e));
                repo.end(op.id(), Containers.OP_FAILED, message(e));
            }
        });
        return ops.view(c, op.id());
    }

    CompletableFuture<LxcSchema.BackupList> backups(Caller caller, String id) {
        Container c = idle(ops.visible(caller, id));
        return agents.worker(c.hostId()).lxcBackupList(c.instance());
    }

    CompletableFuture<LxcSchema.BackupDeleted> backupDelete(Caller caller, String id, String backup, String actor) {
        LxcRules.backup(backup, "backup");
        Container c = idle(ops.visible(caller, id));
        return quick(c, "backup-delete", actor, op -> get(agents.worker(c.hostId()).lxcBackupDelete(
                new LxcSchema.BackupRef(c.instance(), backup))));
    }

    /**
     * Restores a backup, as a job (202). In place: the container is stopped, replaced by the backup and
     * started again. {@code asName}: a new container of the same member on the same host (counted against
     * the quota, with its own SSH port), made like a create and rolled back the same way on failure.
     */
    ContainerView backupRestore(Caller caller, String id, String backup, BackupRestore req, String actor) {
        LxcRules.backup(backup, "backup");
        Container src = idle(ops.visible(caller, id));
        if (req.asName() == null) {
            Operation op = ops.begin(src, "backup-restore", actor);
            jobs.submit(src.id(), JobRunner.Kind.OTHER, () -> {
                try {
                    get(agents.worker(src.hostId()).lxcStop(src.instance(), false));
                    ops.note(src.id(), op.id(), "lxc: stopped");
                    get(agents.worker(src.hostId()).lxcBackupRestore(new LxcSchema.BackupRestoreRequest(src.instance(),
                            backup, null), p -> ops.note(src.id(), op.id(), "restore: " + p.step())));
                    ops.note(src.id(), op.id(), "restored backup " + backup);
                    domains.reexposeDomains(src, op.id());
                    LxcSchema.Container after = get(agents.worker(src.hostId()).lxcStart(src.instance()));
                    ops.setState(src.id(), state(after.status()), null);
                    repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                } catch (RuntimeException e) {
                    ops.note(src.id(), op.id(), "failed: " + message(e));
                    ops.setState(src.id(), Containers.STOPPED, "backup restore failed: " + message(e));
                    repo.end(op.id(), Containers.OP_FAILED, message(e));
                }
            });
            return ops.view(repo.find(src.id()).orElseThrow(), op.id());
        }
        ContainerSize size = settings.sizes().get(src.size());
        if (size == null) {
            throw ProtocolException.conflict("the container's size " + src.size() + " is no longer offered");
        }
        Container c;
        synchronized (placement.lock) {
            placement.checkQuota(src.ownerId(), size);
            String newId = dev.hostdeploy.manager.store.Store.newId();
            String instance = "m-" + src.ownerId().substring(0, Math.min(8, src.ownerId().length())) + "-" + req.asName();
            c = repo.insert(newId, req.asName(), src.ownerId(), src.ownerName(), src.hostId(), instance, src.image(), size,
                    src.sshKeys());
        }
        Operation op = ops.begin(c, "create", actor);
        ops.note(c.id(), op.id(), "restoring backup " + backup + " of " + src.name() + " as " + c.instance());
        jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
            try {
                get(agents.worker(c.hostId()).lxcBackupRestore(new LxcSchema.BackupRestoreRequest(src.instance(), backup,
                        c.instance()), p -> ops.note(c.id(), op.id(), "restore: " + p.step())));
                ops.note(c.id(), op.id(), "lxc: restored");
                LxcSchema.Container after = get(agents.worker(c.hostId()).lxcStart(c.instance()));
                // The SSH port as a create gets it: one a host process holds is skipped.
                int port = ports.bind(c, op.id(), settings.portMin(), settings.portMax(),
                        p -> repo.set(c.id(), "sshPort", p),
                        p -> get(agents.worker(c.hostId()).lxcSshExpose(new ExposeRequest(c.instance(), p, null))))
                        .port();
                ops.note(c.id(), op.id(), "lxc: ssh exposed on port " + port);
                get(agents.guardian(c.hostId()).open(RuleData.port(Proto.TCP, port, owner(c))));
                repo.set(c.id(), "portOpen", true);
                ops.note(c.id(), op.id(), "firewall: opened tcp " + port);
                ops.setState(c.id(), state(after.status()), null);
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
            } catch (RuntimeException e) {
                if (jobs.closing() || interrupted(e)) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int attempt = 0; attempt < 10 && !containerJobs.rollback(c.id(), op.id(), message(e)); attempt++) {
                    if (!pause(Duration.ofSeconds(2))) {
                        return;
                    }
                }
            }
        });
        return ops.view(c, op.id());
    }

    /** A short recorded operation on the container's job queue, its outcome awaited by the request. */
    private <T> CompletableFuture<T> quick(Container c, String kind, String actor,
                                           java.util.function.Function<String, T> work) {
        return jobs.call(c.id(), () -> {
            Operation op = ops.begin(c, kind, actor);
            try {
                T result = work.apply(op.id());
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return result;
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }
}
