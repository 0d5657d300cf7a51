package dev.hostdeploy.manager.agents;

import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.DeploySchema.DeployResult;
import dev.hostdeploy.schema.deploy.DeploySchema.DeploymentList;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsResult;
import dev.hostdeploy.schema.deploy.DeploySchema.NameRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RollbackRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.Status;
import dev.hostdeploy.schema.deploy.DeploySchema.SyncRequest;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupCreated;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupDeleted;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupList;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupRef;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupRestoreRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Container;
import dev.hostdeploy.schema.lxc.LxcSchema.ContainerList;
import dev.hostdeploy.schema.lxc.LxcSchema.CreateRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Created;
import dev.hostdeploy.schema.lxc.LxcSchema.Deleted;
import dev.hostdeploy.schema.lxc.LxcSchema.ExposeRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.ForceRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.KeysRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.KeysSet;
import dev.hostdeploy.schema.lxc.LxcSchema.LimitsRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.ListRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.ScheduleRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Snapshot;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotDeleted;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotList;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotRequest;
import dev.hostdeploy.schema.Owner;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A host's Worker as feature code calls it: one method per command, the schema's records in and out,
 * never a frame or a JSON field name. Quick commands use the connection's timeout; the long ones
 * (git + compose, container create, backups) take {@link #LONG_WORK}, and their progress arrives typed.
 */
public final class WorkerApi {
    /** The deadline of long work; the Worker reports progress meanwhile. */
    public static final Duration LONG_WORK = Duration.ofMinutes(30);
    /**
     * The deadline of a container's start, stop, restart and delete: a stop waits up to 30 s for a clean
     * shutdown, and a delete removes the whole root filesystem, which on a busy host takes longer than a
     * quick command's timeout (the Worker would finish it while the Manager reported a failure).
     */
    public static final Duration CONTAINER_WORK = Duration.ofMinutes(5);

    private final AgentHandle agent;

    WorkerApi(AgentHandle agent) {
        this.agent = agent;
    }

    /** The untyped handle, for the admin's passthrough and for status. */
    public AgentHandle handle() {
        return agent;
    }

    public CompletableFuture<HostStats> hostStats() {
        return agent.call(HostSchema.STATS, null, HostStats.class);
    }

    /** Figures, deployments and containers in one reply; a Worker older than it answers {@code unknown_command}. */
    public CompletableFuture<HostSchema.HostSummary> hostSummary() {
        return agent.call(HostSchema.SUMMARY, null, HostSchema.HostSummary.class);
    }

    // deploy.*, repo.head

    public CompletableFuture<DeployResult> deploySync(SyncRequest request, Consumer<DeploySchema.Progress> progress) {
        return agent.call(DeploySchema.SYNC, request, DeployResult.class, LONG_WORK, DeploySchema.Progress.class, progress);
    }

    public CompletableFuture<DeployResult> deployRollback(RollbackRequest request,
                                                          Consumer<DeploySchema.Progress> progress) {
        return agent.call(DeploySchema.ROLLBACK, request, DeployResult.class, LONG_WORK, DeploySchema.Progress.class,
                progress);
    }

    public CompletableFuture<DeployResult> deployStart(String name, Consumer<DeploySchema.Progress> progress) {
        return agent.call(DeploySchema.START, new NameRequest(name), DeployResult.class, LONG_WORK,
                DeploySchema.Progress.class, progress);
    }

    public CompletableFuture<Status> deployStop(String name, Consumer<DeploySchema.Progress> progress) {
        return agent.call(DeploySchema.STOP, new NameRequest(name), Status.class, LONG_WORK,
                DeploySchema.Progress.class, progress);
    }

    public CompletableFuture<RemoveResult> deployRemove(RemoveRequest request, Consumer<DeploySchema.Progress> progress) {
        return agent.call(DeploySchema.REMOVE, request, RemoveResult.class, LONG_WORK, DeploySchema.Progress.class,
                progress);
    }

    public CompletableFuture<Status> deployStatus(String name) {
        return agent.call(DeploySchema.STATUS, new NameRequest(name), Status.class);
    }

    public CompletableFuture<DeploymentList> deployList() {
        return agent.call(DeploySchema.LIST, null, DeploymentList.class);
    }

    public CompletableFuture<LogsResult> deployLogs(LogsRequest request) {
        return agent.call(DeploySchema.LOGS, request, LogsResult.class);
    }

    public CompletableFuture<RepoHeadResult> repoHead(RepoHeadRequest request) {
        return agent.call(DeploySchema.REPO_HEAD, request, RepoHeadResult.class);
    }

    /** Many heads in one call; each item has its commit or its own error. */
    public CompletableFuture<DeploySchema.RepoHeadsResult> repoHeads(DeploySchema.RepoHeadsRequest request) {
        return agent.call(DeploySchema.REPO_HEADS, request, DeploySchema.RepoHeadsResult.class);
    }

    // lxc.*

    public CompletableFuture<Created> lxcCreate(CreateRequest request, Consumer<LxcSchema.Progress> progress) {
        return agent.call(LxcSchema.CREATE, request, Created.class, LONG_WORK, LxcSchema.Progress.class, progress);
    }

    public CompletableFuture<Container> lxcStart(String name) {
        return agent.call(LxcSchema.START, new LxcSchema.NameRequest(name), Container.class, CONTAINER_WORK, null);
    }

    public CompletableFuture<Container> lxcStop(String name, boolean force) {
        return agent.call(LxcSchema.STOP, new ForceRequest(name, force), Container.class, CONTAINER_WORK, null);
    }

    public CompletableFuture<Container> lxcRestart(String name) {
        return agent.call(LxcSchema.RESTART, new LxcSchema.NameRequest(name), Container.class, CONTAINER_WORK, null);
    }

    public CompletableFuture<Deleted> lxcDelete(String name, boolean force) {
        return agent.call(LxcSchema.DELETE, new ForceRequest(name, force), Deleted.class, CONTAINER_WORK, null);
    }

    public CompletableFuture<Container> lxcGet(String name) {
        return agent.call(LxcSchema.GET, new LxcSchema.NameRequest(name), Container.class);
    }

    /** Every container hostdeploy made on the host, or only {@code owner}'s when it is not null. */
    public CompletableFuture<ContainerList> lxcList(Owner owner) {
        return agent.call(LxcSchema.LIST, new ListRequest(owner), ContainerList.class);
    }

    public CompletableFuture<KeysSet> lxcKeysSet(KeysRequest request) {
        return agent.call(LxcSchema.KEYS_SET, request, KeysSet.class);
    }

    public CompletableFuture<Container> lxcLimitsSet(LimitsRequest request) {
        return agent.call(LxcSchema.LIMITS_SET, request, Container.class);
    }

    public CompletableFuture<Container> lxcSshExpose(ExposeRequest request) {
        return agent.call(LxcSchema.SSH_EXPOSE, request, Container.class);
    }

    public CompletableFuture<Container> lxcSshUnexpose(String name) {
        return agent.call(LxcSchema.SSH_UNEXPOSE, new LxcSchema.NameRequest(name), Container.class);
    }

    /** Changing a running container's devices waits on LXD, which a busy host makes take seconds. */
    public static final Duration DEVICE_WORK = Duration.ofMinutes(2);

    public CompletableFuture<Container> lxcPortExpose(LxcSchema.PortExposeRequest request) {
        return agent.call(LxcSchema.PORT_EXPOSE, request, Container.class, DEVICE_WORK, null);
    }

    public CompletableFuture<Container> lxcPortUnexpose(LxcSchema.PortUnexposeRequest request) {
        return agent.call(LxcSchema.PORT_UNEXPOSE, request, Container.class, DEVICE_WORK, null);
    }

    /** Long work: on a {@code dir} storage pool LXD copies the whole root file system. */
    public CompletableFuture<Snapshot> lxcSnapshotCreate(SnapshotRequest request) {
        return agent.call(LxcSchema.SNAPSHOT_CREATE, request, Snapshot.class, LONG_WORK, LxcSchema.Progress.class, null);
    }

    public CompletableFuture<SnapshotList> lxcSnapshotList(String name) {
        return agent.call(LxcSchema.SNAPSHOT_LIST, new LxcSchema.NameRequest(name), SnapshotList.class);
    }

    public CompletableFuture<Container> lxcSnapshotRestore(SnapshotRequest request) {
        return agent.call(LxcSchema.SNAPSHOT_RESTORE, request, Container.class, LONG_WORK, LxcSchema.Progress.class,
                null);
    }

    public CompletableFuture<SnapshotDeleted> lxcSnapshotDelete(SnapshotRequest request) {
        return agent.call(LxcSchema.SNAPSHOT_DELETE, request, SnapshotDeleted.class, LONG_WORK, LxcSchema.Progress.class,
                null);
    }

    public CompletableFuture<Container> lxcSnapshotSchedule(ScheduleRequest request) {
        return agent.call(LxcSchema.SNAPSHOT_SCHEDULE, request, Container.class);
    }

    public CompletableFuture<BackupCreated> lxcBackupCreate(String name, Consumer<LxcSchema.Progress> progress) {
        return agent.call(LxcSchema.BACKUP_CREATE, new LxcSchema.NameRequest(name), BackupCreated.class, LONG_WORK,
                LxcSchema.Progress.class, progress);
    }

    public CompletableFuture<BackupList> lxcBackupList(String name) {
        return agent.call(LxcSchema.BACKUP_LIST, new LxcSchema.NameRequest(name), BackupList.class);
    }

    public CompletableFuture<Container> lxcBackupRestore(BackupRestoreRequest request,
                                                         Consumer<LxcSchema.Progress> progress) {
        return agent.call(LxcSchema.BACKUP_RESTORE, request, Container.class, LONG_WORK, LxcSchema.Progress.class,
                progress);
    }

    public CompletableFuture<BackupDeleted> lxcBackupDelete(BackupRef request) {
        return agent.call(LxcSchema.BACKUP_DELETE, request, BackupDeleted.class);
    }
}
