package dev.hostdeploy.manager.containers;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.containers.ContainerApi.BackupRestore;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerKeys;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerView;
import dev.hostdeploy.manager.containers.ContainerApi.DomainView;
import dev.hostdeploy.manager.containers.ContainerApi.NewContainer;
import dev.hostdeploy.manager.containers.ContainerApi.NewDomain;
import dev.hostdeploy.manager.containers.ContainerApi.NewSnapshot;
import dev.hostdeploy.manager.containers.ContainerApi.OperationView;
import dev.hostdeploy.manager.containers.ContainerApi.SnapshotSchedule;
import dev.hostdeploy.manager.containers.ContainerApi.Usage;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.deployments.FirewallReconciler;
import dev.hostdeploy.manager.hosts.HostService;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.lxc.LxcSchema;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Members' own LXC containers. A request is checked and placed at once (quota, host, unique name: all
 * answered before any agent is asked to change anything); the work then runs as a recorded operation on
 * {@link JobRunner}, one at a time per container. A create allocates an SSH port, has the Worker create
 * the container and expose the port, then has the Guardian open it under the owner {@code container/ID};
 * a failure on the way undoes each step done, in reverse. What a stopped Manager left half-done is
 * resolved at the next start ({@link #recoverInterrupted}).
 *
 * <p>This is the feature's one entry point; the work is done by its collaborators: {@link ContainerCreation}
 * (checking and placing a create), {@link Placement} (quotas, hosts), {@link ContainerActions} (power, keys),
 * {@link ContainerJobs} (create, delete, offboard, purge), {@link SnapshotsAndBackups}, {@link ContainerDomains},
 * {@link ContainerRecovery} and {@link ContainerFirewallRules}. The request and response records are in
 * {@link ContainerApi}, the options in {@link ContainerSettings} and {@link DomainSettings}.
 */
public final class ContainerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerService.class);
    public static final String OWNER_KIND = "container";

    private final Containers repo;
    private final AgentRegistry agents;
    private final JobRunner jobs;
    private final AuditLog audit;
    private final ContainerSettings settings;
    private final ContainerEvents events = new ContainerEvents();
    private final ContainerOps ops;
    private final ContainerDomains domains;
    private final Placement placement;
    private final ContainerJobs containerJobs;
    private final SnapshotsAndBackups snapshots;
    private final ContainerRecovery recovery;
    private final ContainerCreation creation;
    private final ContainerActions actions;
    private final ContainerFirewallRules firewallRules;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "containers-timer");
        t.setDaemon(true);
        return t;
    });
    /** Compares a (re)connected Worker's containers with the records, one host after the other. */
    private final java.util.concurrent.ExecutorService recoveries = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "containers-recovery");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.ExecutorService work = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "containers");
        t.setDaemon(true);
        return t;
    });

    public ContainerService(Containers repo, UserService users, HostService hosts, AgentRegistry agents,
                            JobRunner jobs, AuditLog audit, ContainerSettings settings) {
        this.repo = repo;
        this.agents = agents;
        this.jobs = jobs;
        this.audit = audit;
        this.settings = settings;
        this.ops = new ContainerOps(repo, hosts, agents, jobs, events);
        this.domains = new ContainerDomains(ops);
        this.placement = new Placement(repo, users, agents, settings, domains);
        this.containerJobs = new ContainerJobs(ops, audit, settings, domains);
        this.snapshots = new SnapshotsAndBackups(ops, settings, placement, domains, containerJobs);
        this.recovery = new ContainerRecovery(ops, audit, settings, domains, containerJobs);
        this.creation = new ContainerCreation(ops, users, settings, placement, containerJobs, work);
        this.actions = new ContainerActions(ops);
        this.firewallRules = new ContainerFirewallRules(repo, jobs);
    }

    /** Turns members' container domains on: routes at the hosts' Guardians through {@code ingress}. */
    public void domains(IngressService ingress, DomainSettings settings) {
        domains.configure(ingress, settings);
    }

    // ---- API ----

    public CompletableFuture<ContainerView> create(Caller caller, NewContainer req, String actor) {
        return creation.create(caller, req, actor);
    }

    public List<ContainerView> list(Caller caller) {
        List<Container> all = caller.admin() ? repo.all() : repo.byOwner(caller.id());
        return all.stream().map(c -> ops.view(c, null)).toList();
    }

    public ContainerView get(Caller caller, String id) {
        return ops.view(ops.visible(caller, id), null);
    }

    public List<OperationView> operations(Caller caller, String id) {
        List<Operation> found = repo.operationsOf(id).stream()
                .filter(o -> caller.admin() || caller.id().equals(o.ownerId())).toList();
        if (found.isEmpty()) {
            ops.visible(caller, id);
        }
        return found.stream().map(o -> new OperationView(o.id(), o.containerId(), o.kind(), o.actor(), o.state(),
                o.steps(), o.startedAt(), o.endedAt(), o.error())).toList();
    }

    /** {@code start}, {@code stop} or {@code restart}, after any job in progress on the container. */
    public CompletableFuture<ContainerView> power(Caller caller, String id, String action, String actor) {
        return actions.power(caller, id, action, actor);
    }

    public CompletableFuture<ContainerView> setKeys(Caller caller, String id, ContainerKeys keys, String actor) {
        return actions.setKeys(caller, id, keys, actor);
    }

    // ---- snapshots and backups ----

    public CompletableFuture<LxcSchema.Snapshot> snapshotCreate(Caller caller, String id, NewSnapshot req, String actor) {
        return snapshots.snapshotCreate(caller, id, req, actor);
    }

    public CompletableFuture<LxcSchema.SnapshotList> snapshots(Caller caller, String id) {
        return snapshots.snapshots(caller, id);
    }

    public CompletableFuture<ContainerView> snapshotRestore(Caller caller, String id, String snapshot, String actor) {
        return snapshots.snapshotRestore(caller, id, snapshot, actor);
    }

    public CompletableFuture<LxcSchema.SnapshotDeleted> snapshotDelete(Caller caller, String id, String snapshot,
                                                                      String actor) {
        return snapshots.snapshotDelete(caller, id, snapshot, actor);
    }

    public CompletableFuture<ContainerView> snapshotSchedule(Caller caller, String id, SnapshotSchedule req,
                                                             String actor) {
        return snapshots.snapshotSchedule(caller, id, req, actor);
    }

    /** A backup, as a job: 202 with the operation; its progress on {@code .../events}, its record in {@code .../operations}. */
    public ContainerView backupCreate(Caller caller, String id, String actor) {
        return snapshots.backupCreate(caller, id, actor);
    }

    public CompletableFuture<LxcSchema.BackupList> backups(Caller caller, String id) {
        return snapshots.backups(caller, id);
    }

    public CompletableFuture<LxcSchema.BackupDeleted> backupDelete(Caller caller, String id, String backup, String actor) {
        return snapshots.backupDelete(caller, id, backup, actor);
    }

    /** Restores a backup, as a job (202): in place, or as a new container of the same member ({@code asName}). */
    public ContainerView backupRestore(Caller caller, String id, String backup, BackupRestore req, String actor) {
        return snapshots.backupRestore(caller, id, backup, req, actor);
    }

    // ---- members' container domains ----

    /** Routes {@code NAME.SUFFIX} to a port of the container, as a recorded operation (undone on failure). */
    public CompletableFuture<DomainView> addDomain(Caller caller, String id, NewDomain req, String actor) {
        return domains.addDomain(placement, caller, id, req, actor);
    }

    public List<DomainView> domains(Caller caller, String id) {
        return domains.domains(caller, id);
    }

    /** Removes the container's domain: its route, the port forward, the host port and the claim. */
    public CompletableFuture<Void> removeDomain(Caller caller, String id, String name, String actor) {
        return domains.removeDomain(caller, id, name, actor);
    }

    /** Marks the container for deletion and deletes it as a job: closes its port, removes it, frees the port. */
    public ContainerView delete(Caller caller, String id, String actor) {
        return containerJobs.scheduleDelete(ops.visible(caller, id), actor);
    }

    /** An admin keeps an offboarded member's container: it is no longer deleted after the grace period. */
    public ContainerView keep(String id) {
        Container c = repo.find(id).orElseThrow(() -> ProtocolException.notFound("no container " + id));
        repo.set(c.id(), "deleteAfter", null);
        repo.set(c.id(), "kept", true);
        return ops.view(repo.find(id).orElseThrow(), null);
    }

    public Usage usage(String userId) {
        return placement.usage(userId);
    }

    /** {@link #offboard(String, String)} on the Manager's own behalf (a member deleted, or gone from the org). */
    public CompletableFuture<List<ContainerView>> offboard(String userId) {
        return offboard(userId, "manager");
    }

    /** A member left: their containers are stopped, their ports closed, deleted after the grace period. */
    public CompletableFuture<List<ContainerView>> offboard(String userId, String actor) {
        return containerJobs.offboard(userId, actor);
    }

    /** Deletes the offboarded containers past their grace period; returns how many deletions were queued. */
    public int purge() {
        return containerJobs.purge();
    }

    /** Starts the periodic purge and the comparison of each (re)connecting Worker with the records. */
    public void start() {
        long every = settings.purgeEvery().toMillis();
        timer.scheduleWithFixedDelay(() -> {
            try {
                purge();
            } catch (RuntimeException e) {
                LOG.warn("container purge failed: {}", e.toString());
            }
        }, every, every, TimeUnit.MILLISECONDS);
        agents.onWorkerConnected(hostId -> recovery.compare(hostId, recoveries));
    }

    /** For {@code /stats}: containers by state, and what the last comparisons with the Workers found. */
    public Map<String, Object> report() {
        Map<String, Long> byState = new java.util.TreeMap<>();
        for (Container c : repo.all()) {
            byState.merge(c.state(), 1L, Long::sum);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("byState", byState);
        out.put("drift", recovery.drift());
        return out;
    }

    // ---- consistency ----

    /** Resolves what a stopped Manager left half-done: a create is rolled back, a delete finished. */
    public void recoverInterrupted() {
        recovery.recoverInterrupted();
    }

    /** Follows the container's operations: the current one's steps so far, then live steps and state changes. */
    public void follow(Caller caller, String id, io.javalin.http.sse.SseClient client) {
        events.subscribe(ops.visible(caller, id).id(), client);
    }

    /** 404 unless the caller may see the container (before a stream is opened). */
    public void requireVisible(Caller caller, String id) {
        ops.visible(caller, id);
    }

    /** The containers' openings, for the {@link FirewallReconciler}'s desired state of each Guardian. */
    public FirewallReconciler.PortSource firewallRules() {
        return firewallRules;
    }

    static Owner owner(Container c) {
        return Owner.of(OWNER_KIND, c.id());
    }

    static String target(Container c) {
        return "container/" + c.ownerName() + "/" + c.name();
    }

    static boolean notFound(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof AgentCallException a && a.code() == ErrorCode.NOT_FOUND;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        work.shutdownNow();
        recoveries.shutdownNow();
        jobs.close();
    }
}
