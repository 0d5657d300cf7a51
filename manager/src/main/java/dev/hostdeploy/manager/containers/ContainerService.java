package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.agents.AgentErrors.message;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.manager.agents.AgentConnection;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.deployments.FirewallReconciler;
import dev.hostdeploy.manager.hosts.HostService;
import dev.hostdeploy.manager.hosts.Hosts;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.manager.users.Users;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.AgentInfo;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.Proto;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import dev.hostdeploy.schema.ingress.Hostname;
import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.CreateRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Created;
import dev.hostdeploy.schema.lxc.LxcSchema.ExposeRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.KeysRequest;
import dev.hostdeploy.schema.lxc.SshKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
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
 */
public final class ContainerService implements FirewallReconciler.PortSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerService.class);
    public static final String OWNER_KIND = "container";
    /** Member names become part of the LXD instance name {@code m-XXXXXXXX-NAME} (at most 63). */
    static final int MAX_NAME = 52;
    private static final Duration STATS_TIMEOUT = Duration.ofSeconds(5);

    /** The Manager's container options. Quota fields left null in a member's override take these. */
    public record Settings(int portMin, int portMax, int maxContainers, Map<String, ContainerSize> sizes,
                           String defaultImage, Duration grace, Duration recoveryWait, Duration purgeEvery) {
        public Settings {
            if (portMin < 1024 || portMax > 65535 || portMin > portMax) {
                throw new IllegalArgumentException("--ssh-port-range must be LOW-HIGH within 1024-65535");
            }
            if (maxContainers < 0) {
                throw new IllegalArgumentException("--max-containers-per-member must be 0 or more");
            }
            if (sizes.isEmpty()) {
                throw new IllegalArgumentException("--size: at least one size is needed");
            }
            if (defaultImage != null) {
                try {
                    LxcRules.image(defaultImage, "--default-image");
                } catch (ProtocolException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
            }
            sizes = Map.copyOf(sizes);
        }

        String defaultSize() {
            return sizes.containsKey("small") ? "small" : sizes.keySet().stream().sorted().findFirst().orElseThrow();
        }
    }

    /**
     * Members' container domains: {@code NAME.suffix} ({@code --member-domain-suffix}; null: off), the
     * loopback host ports their container ports are exposed on ({@code --member-http-port-range}, given
     * out per host like SSH ports), and the default number a member may have.
     */
    public record DomainSettings(String suffix, int portMin, int portMax, int maxDomains) {
        public DomainSettings {
            if (suffix != null) {
                String s = suffix.startsWith(".") ? suffix.substring(1) : suffix;
                try {
                    suffix = Hostname.parse("--member-domain-suffix", s);
                } catch (ProtocolException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
            }
            if (portMin < 1024 || portMax > 65535 || portMin > portMax) {
                throw new IllegalArgumentException("--member-http-port-range must be LOW-HIGH within 1024-65535");
            }
            if (maxDomains < 0) {
                throw new IllegalArgumentException("--max-domains-per-member must be 0 or more");
            }
        }

        public static DomainSettings off() {
            return new DomainSettings(null, 23000, 23999, 3);
        }
    }

    /** {@code POST /containers/{id}/domains}: {@code NAME.SUFFIX} routed to {@code port} of the container. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewDomain(String name, Integer port) {
        public NewDomain {
            Validation.required(name, "name");
            name = name.strip().toLowerCase(Locale.ROOT);
            Validation.require(!name.isEmpty() && !name.contains("."), "name",
                    "must be one DNS label (the part before the member domain suffix)");
            Hostname.parse("name", name + ".example");
            Validation.required(port, "port");
            Validation.require(port >= 1 && port <= 65535, "port", "must be the container's port, 1-65535");
        }
    }

    /** A container's domain: {@code hostname} is {@code name.SUFFIX}, served at {@code url}. */
    public record DomainView(String name, String hostname, int port, String url, String tls, boolean pending,
                             Instant createdAt) {
    }

    /** {@code POST /containers}. {@code owner}: an admin creating for a member (id or name). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewContainer(String name, String image, String size, List<String> sshKeys, String owner) {
        public NewContainer {
            LxcRules.name(name, "name");
            Validation.require(name.length() <= MAX_NAME, "name", "must be at most " + MAX_NAME + " characters");
            if (image != null) {
                LxcRules.image(image, "image");
            }
            if (sshKeys != null) {
                sshKeys = SshKeys.parseAll(sshKeys, "sshKeys").stream().map(SshKeys.Key::line).toList();
            }
        }
    }

    /** {@code PUT /containers/{id}/keys}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ContainerKeys(List<String> sshKeys) {
        public ContainerKeys {
            Validation.required(sshKeys, "sshKeys");
            sshKeys = SshKeys.parseAll(sshKeys, "sshKeys").stream().map(SshKeys.Key::line).toList();
            Validation.require(!sshKeys.isEmpty(), "sshKeys", "give at least one key");
        }
    }

    /** {@code POST /containers/{id}/snapshots}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewSnapshot(String name) {
        public NewSnapshot {
            LxcRules.snapshot(name, "name");
        }
    }

    /** {@code PUT /containers/{id}/snapshots/schedule}: LXD's own schedule and expiry; empty turns each off. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SnapshotSchedule(String schedule, String expiry) {
        public SnapshotSchedule {
            // The Worker's rules, checked here so bad input never reaches it.
            new LxcSchema.ScheduleRequest("x", schedule, expiry);
        }
    }

    /** {@code POST /containers/{id}/backups/{backup}/restore}: in place, or as a new container of the same member. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BackupRestore(String asName) {
        public BackupRestore {
            if (asName != null) {
                LxcRules.name(asName, "asName");
                Validation.require(asName.length() <= MAX_NAME, "asName", "must be at most " + MAX_NAME + " characters");
            }
        }
    }

    /** How a member logs in: {@code ssh -p PORT root@HOST}. */
    public record Ssh(String host, int port, String command) {
    }

    /** A container as the API shows it. */
    public record ContainerView(String id, String name, String owner, String host, String state, String image,
                                String size, Ssh ssh, Instant createdAt, String ownerId, String hostId,
                                Instant deleteAfter, boolean kept, String lastError, String operation) {
    }

    /** One limit's use: {@code limit} null means unlimited. */
    public record Use(long used, Long limit) {
    }

    /** {@code GET /me/usage}: memory and disk in bytes. */
    public record Usage(Use containers, Use cpus, Use memory, Use disk, Use domains) {
    }

    public record OperationView(String id, String container, String kind, String actor, String state,
                                List<String> steps, Instant startedAt, Instant endedAt, String error) {
    }

    /** What the last comparison of a host's Worker with the records found. */
    public record Drift(String host, List<String> missing, List<String> foreign, Instant checkedAt) {
    }

    private final Containers repo;
    private final UserService users;
    private final HostService hosts;
    private final AgentRegistry agents;
    private final JobRunner jobs;
    private final AuditLog audit;
    private final Settings settings;
    private IngressService ingress;
    private DomainSettings domainSettings = DomainSettings.off();
    /** Quota checks and placement one at a time, so concurrent requests never overshoot either. */
    private final Object placement = new Object();
    private final Map<String, Drift> drift = new ConcurrentHashMap<>();
    private final ContainerEvents events = new ContainerEvents();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "containers-timer");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.ExecutorService work = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "containers");
        t.setDaemon(true);
        return t;
    });

    public ContainerService(Containers repo, UserService users, HostService hosts, AgentRegistry agents,
                            JobRunner jobs, AuditLog audit, Settings settings) {
        this.repo = repo;
        this.users = users;
        this.hosts = hosts;
        this.agents = agents;
        this.jobs = jobs;
        this.audit = audit;
        this.settings = settings;
    }

    /** Turns members' container domains on: routes at the hosts' Guardians through {@code ingress}. */
    public void domains(IngressService ingress, DomainSettings settings) {
        this.ingress = ingress;
        this.domainSettings = settings;
    }

    // ---- API ----

    public CompletableFuture<ContainerView> create(Caller caller, NewContainer req, String actor) {
        Users.User owner = owner(caller, req.owner());
        String image = req.image() != null ? req.image() : settings.defaultImage();
        if (image == null) {
            throw ProtocolException.invalid("image", "is required (this Manager has no --default-image)");
        }
        String sizeName = req.size() != null ? req.size() : settings.defaultSize();
        ContainerSize size = settings.sizes().get(sizeName);
        if (size == null) {
            throw ProtocolException.invalid("size", "must be one of " + new java.util.TreeSet<>(settings.sizes().keySet()));
        }
        List<String> keys = req.sshKeys() != null ? req.sshKeys() : users.keys(owner.id());
        if (keys.isEmpty()) {
            throw ProtocolException.invalid("sshKeys", "no keys given, and none set with PUT /api/v1/me/keys");
        }
        synchronized (placement) {
            checkQuota(owner.id(), size);
        }
        List<HostAgents> candidates = new ArrayList<>();
        for (HostAgents h : agents.all()) {
            if (h.worker().connected() && h.guardian().connected() && allowedImages(h.worker()).contains(image)) {
                candidates.add(h);
            }
        }
        if (candidates.isEmpty()) {
            throw noCapacity("no connected host allows the image " + image);
        }
        List<CompletableFuture<Optional<HostStats>>> stats = new ArrayList<>();
        for (HostAgents h : candidates) {
            stats.add(h.workerApi().hostStats().orTimeout(STATS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .thenApply(Optional::of).exceptionally(e -> Optional.empty()));
        }
        return CompletableFuture.allOf(stats.toArray(CompletableFuture[]::new)).thenApplyAsync(v -> {
            Container c;
            synchronized (placement) {
                checkQuota(owner.id(), size);
                String best = null;
                long bestFree = Long.MIN_VALUE;
                for (int i = 0; i < candidates.size(); i++) {
                    Optional<HostStats> s = stats.get(i).join();
                    if (s.isEmpty()) {
                        continue;
                    }
                    String hostId = candidates.get(i).hostId();
                    // Containers still being made have not taken their memory yet: count them as taken.
                    long reserved = repo.byHost(hostId).stream().filter(x -> Containers.CREATING.equals(x.state()))
                            .mapToLong(Container::memoryBytes).sum();
                    long free = s.get().memoryAvailableBytes() - reserved;
                    if (free >= size.memoryBytes() && free > bestFree) {
                        best = hostId;
                        bestFree = free;
                    }
                }
                if (best == null) {
                    throw noCapacity("no connected host has " + size.memory() + " of memory free for a " + size.name()
                            + " container of " + image);
                }
                String id = dev.hostdeploy.manager.store.Store.newId();
                String instance = "m-" + owner.id().substring(0, Math.min(8, owner.id().length())) + "-" + req.name();
                c = repo.insert(id, req.name(), owner.id(), owner.name(), best, instance, image, size, keys);
            }
            Operation op = begin(c, "create", actor);
            note(c.id(), op.id(), "placed on host " + c.hostId() + " as " + c.instance());
            jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> runCreate(c.id(), op.id()));
            return view(c, op.id());
        }, work);
    }

    public List<ContainerView> list(Caller caller) {
        List<Container> all = caller.admin() ? repo.all() : repo.byOwner(caller.id());
        return all.stream().map(c -> view(c, null)).toList();
    }

    public ContainerView get(Caller caller, String id) {
        return view(visible(caller, id), null);
    }

    public List<OperationView> operations(Caller caller, String id) {
        List<Operation> ops = repo.operationsOf(id).stream()
                .filter(o -> caller.admin() || caller.id().equals(o.ownerId())).toList();
        if (ops.isEmpty()) {
            visible(caller, id);
        }
        return ops.stream().map(o -> new OperationView(o.id(), o.containerId(), o.kind(), o.actor(), o.state(),
                o.steps(), o.startedAt(), o.endedAt(), o.error())).toList();
    }

    /** {@code start}, {@code stop} or {@code restart}, after any job in progress on the container. */
    public CompletableFuture<ContainerView> power(Caller caller, String id, String action, String actor) {
        Container c = idle(visible(caller, id));
        return jobs.call(c.id(), () -> {
            Operation op = begin(c, action, actor);
            try {
                LxcSchema.Container after = switch (action) {
                    case "start" -> get(agents.worker(c.hostId()).lxcStart(c.instance()));
                    case "stop" -> get(agents.worker(c.hostId()).lxcStop(c.instance(), false));
                    default -> get(agents.worker(c.hostId()).lxcRestart(c.instance()));
                };
                setState(c.id(), state(after.status()), null);
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return view(repo.find(c.id()).orElseThrow(), op.id());
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }

    public CompletableFuture<ContainerView> setKeys(Caller caller, String id, ContainerKeys keys, String actor) {
        Container c = idle(visible(caller, id));
        return jobs.call(c.id(), () -> {
            Operation op = begin(c, "keys", actor);
            try {
                get(agents.worker(c.hostId()).lxcKeysSet(new KeysRequest(c.instance(), keys.sshKeys())));
                repo.set(c.id(), "sshKeys", keys.sshKeys());
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return view(repo.find(c.id()).orElseThrow(), op.id());
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }

    // ---- snapshots and backups ----

    public CompletableFuture<LxcSchema.Snapshot> snapshotCreate(Caller caller, String id, NewSnapshot req, String actor) {
        Container c = idle(visible(caller, id));
        return quick(c, "snapshot", actor, op -> {
            LxcSchema.Snapshot snap = get(agents.worker(c.hostId()).lxcSnapshotCreate(
                    new LxcSchema.SnapshotRequest(c.instance(), req.name())));
            note(c.id(), op, "snapshot " + snap.name() + " taken");
            return snap;
        });
    }

    public CompletableFuture<LxcSchema.SnapshotList> snapshots(Caller caller, String id) {
        Container c = idle(visible(caller, id));
        return agents.worker(c.hostId()).lxcSnapshotList(c.instance());
    }

    public CompletableFuture<ContainerView> snapshotRestore(Caller caller, String id, String snapshot, String actor) {
        LxcRules.snapshot(snapshot, "snapshot");
        Container c = idle(visible(caller, id));
        return quick(c, "snapshot-restore", actor, op -> {
            LxcSchema.Container after = get(agents.worker(c.hostId()).lxcSnapshotRestore(
                    new LxcSchema.SnapshotRequest(c.instance(), snapshot)));
            note(c.id(), op, "restored snapshot " + snapshot);
            reexposeDomains(c, op);
            setState(c.id(), state(after.status()), null);
            return view(repo.find(c.id()).orElseThrow(), op);
        });
    }

    public CompletableFuture<LxcSchema.SnapshotDeleted> snapshotDelete(Caller caller, String id, String snapshot,
                                                                      String actor) {
        LxcRules.snapshot(snapshot, "snapshot");
        Container c = idle(visible(caller, id));
        return quick(c, "snapshot-delete", actor, op -> get(agents.worker(c.hostId()).lxcSnapshotDelete(
                new LxcSchema.SnapshotRequest(c.instance(), snapshot))));
    }

    public CompletableFuture<ContainerView> snapshotSchedule(Caller caller, String id, SnapshotSchedule req,
                                                             String actor) {
        Container c = idle(visible(caller, id));
        return quick(c, "snapshot-schedule", actor, op -> {
            get(agents.worker(c.hostId()).lxcSnapshotSchedule(new LxcSchema.ScheduleRequest(c.instance(),
                    req.schedule(), req.expiry())));
            return view(repo.find(c.id()).orElseThrow(), op);
        });
    }

    /** A backup, as a job: 202 with the operation; its progress on {@code .../events}, its record in {@code .../operations}. */
    public ContainerView backupCreate(Caller caller, String id, String actor) {
        Container c = idle(visible(caller, id));
        Operation op = begin(c, "backup", actor);
        jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
            try {
                LxcSchema.BackupCreated b = get(agents.worker(c.hostId()).lxcBackupCreate(c.instance(),
                        p -> note(c.id(), op.id(), "backup: " + p.step())));
                note(c.id(), op.id(), "backup " + b.backup() + " written (" + b.size() + " bytes, sha256 " + b.sha256() + ")");
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
            } catch (RuntimeException e) {
                note(c.id(), op.id(), "failed: " + message(e));
                repo.end(op.id(), Containers.OP_FAILED, message(e));
            }
        });
        return view(c, op.id());
    }

    public CompletableFuture<LxcSchema.BackupList> backups(Caller caller, String id) {
        Container c = idle(visible(caller, id));
        return agents.worker(c.hostId()).lxcBackupList(c.instance());
    }

    public CompletableFuture<LxcSchema.BackupDeleted> backupDelete(Caller caller, String id, String backup, String actor) {
        LxcRules.backup(backup, "backup");
        Container c = idle(visible(caller, id));
        return quick(c, "backup-delete", actor, op -> get(agents.worker(c.hostId()).lxcBackupDelete(
                new LxcSchema.BackupRef(c.instance(), backup))));
    }

    /**
     * Restores a backup, as a job (202). In place: the container is stopped, replaced by the backup and
     * started again. {@code asName}: a new container of the same member on the same host (counted against
     * the quota, with its own SSH port), made like a create and rolled back the same way on failure.
     */
    public ContainerView backupRestore(Caller caller, String id, String backup, BackupRestore req, String actor) {
        LxcRules.backup(backup, "backup");
        Container src = idle(visible(caller, id));
        if (req.asName() == null) {
            Operation op = begin(src, "backup-restore", actor);
            jobs.submit(src.id(), JobRunner.Kind.OTHER, () -> {
                try {
                    get(agents.worker(src.hostId()).lxcStop(src.instance(), false));
                    note(src.id(), op.id(), "lxc: stopped");
                    get(agents.worker(src.hostId()).lxcBackupRestore(new LxcSchema.BackupRestoreRequest(src.instance(),
                            backup, null), p -> note(src.id(), op.id(), "restore: " + p.step())));
                    note(src.id(), op.id(), "restored backup " + backup);
                    reexposeDomains(src, op.id());
                    LxcSchema.Container after = get(agents.worker(src.hostId()).lxcStart(src.instance()));
                    setState(src.id(), state(after.status()), null);
                    repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                } catch (RuntimeException e) {
                    note(src.id(), op.id(), "failed: " + message(e));
                    setState(src.id(), Containers.STOPPED, "backup restore failed: " + message(e));
                    repo.end(op.id(), Containers.OP_FAILED, message(e));
                }
            });
            return view(repo.find(src.id()).orElseThrow(), op.id());
        }
        ContainerSize size = settings.sizes().get(src.size());
        if (size == null) {
            throw ProtocolException.conflict("the container's size " + src.size() + " is no longer offered");
        }
        Container c;
        synchronized (placement) {
            checkQuota(src.ownerId(), size);
            String newId = dev.hostdeploy.manager.store.Store.newId();
            String instance = "m-" + src.ownerId().substring(0, Math.min(8, src.ownerId().length())) + "-" + req.asName();
            c = repo.insert(newId, req.asName(), src.ownerId(), src.ownerName(), src.hostId(), instance, src.image(), size,
                    src.sshKeys());
        }
        Operation op = begin(c, "create", actor);
        note(c.id(), op.id(), "restoring backup " + backup + " of " + src.name() + " as " + c.instance());
        jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
            try {
                int port = repo.allocatePort(c.hostId(), c.id(), settings.portMin(), settings.portMax());
                repo.set(c.id(), "sshPort", port);
                note(c.id(), op.id(), "port: allocated " + port);
                get(agents.worker(c.hostId()).lxcBackupRestore(new LxcSchema.BackupRestoreRequest(src.instance(), backup,
                        c.instance()), p -> note(c.id(), op.id(), "restore: " + p.step())));
                note(c.id(), op.id(), "lxc: restored");
                LxcSchema.Container after = get(agents.worker(c.hostId()).lxcStart(c.instance()));
                get(agents.worker(c.hostId()).lxcSshExpose(new ExposeRequest(c.instance(), port, null)));
                note(c.id(), op.id(), "lxc: ssh exposed on port " + port);
                get(agents.guardian(c.hostId()).open(RuleData.port(Proto.TCP, port, owner(c))));
                repo.set(c.id(), "portOpen", true);
                note(c.id(), op.id(), "firewall: opened tcp " + port);
                setState(c.id(), state(after.status()), null);
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
            } catch (RuntimeException e) {
                if (jobs.closing() || interrupted(e)) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int attempt = 0; attempt < 10 && !rollback(c.id(), op.id(), message(e)); attempt++) {
                    if (!pause(Duration.ofSeconds(2))) {
                        return;
                    }
                }
            }
        });
        return view(c, op.id());
    }

    /** A short recorded operation on the container's job queue, its outcome awaited by the request. */
    private <T> CompletableFuture<T> quick(Container c, String kind, String actor,
                                           java.util.function.Function<String, T> work) {
        return jobs.call(c.id(), () -> {
            Operation op = begin(c, kind, actor);
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

    // ---- members' container domains ----

    /**
     * Routes {@code NAME.SUFFIX} to a port of the container, as a recorded operation: the hostname is
     * claimed (409 when a deployment or another container holds it; counted in the member's quota), a
     * loopback host port of {@code --member-http-port-range} is given out and the Worker forwards it to the
     * container port (an LXD proxy device), then the host's Guardian routes the hostname to it through
     * Caddy under the owner {@code container/ID}. A failure undoes each step done, in reverse.
     */
    public CompletableFuture<DomainView> addDomain(Caller caller, String id, NewDomain req, String actor) {
        String host = hostname(req.name());
        Container c = idle(visible(caller, id));
        return jobs.call(c.id(), () -> {
            Operation op = begin(c, "domain-add", actor);
            try {
                synchronized (placement) {
                    check("domains", usage(c.ownerId()).domains(), 1);
                    ingress.claimForContainer(host, c.id(), owner(c), c.hostId(), req.port());
                }
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
            note(c.id(), op.id(), "domain: claimed " + host + " for container port " + req.port());
            try {
                int hostPort = exposePort(c, op.id(), host, req.port());
                String upstream = "127.0.0.1:" + hostPort;
                unchecked(() -> ingress.route(host, upstream));
                note(c.id(), op.id(), "ingress: " + host + " -> " + upstream);
                ingress.pending(host, false);
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return domainView(ingress.claim(host).orElseThrow());
            } catch (RuntimeException e) {
                if (jobs.closing() || interrupted(e)) {
                    Thread.currentThread().interrupt(); // left pending: the next start removes it
                    throw e;
                }
                note(c.id(), op.id(), "failed: " + message(e) + "; rolling back");
                try {
                    removeDomainSteps(c, ingress.claim(host).orElse(null), op.id());
                    repo.end(op.id(), Containers.OP_ROLLED_BACK, message(e));
                } catch (RuntimeException r) {
                    note(c.id(), op.id(), "rollback incomplete, retried at the next start: " + message(r));
                    repo.end(op.id(), Containers.OP_FAILED, message(e) + "; rollback incomplete: " + message(r));
                }
                throw e;
            }
        });
    }

    public List<DomainView> domains(Caller caller, String id) {
        Container c = visible(caller, id);
        return ingress == null ? List.of() : ingress.containerClaims(c.id()).stream().map(this::domainView).toList();
    }

    /** Removes the container's domain: its route, the port forward, the host port and the claim. */
    public CompletableFuture<Void> removeDomain(Caller caller, String id, String name, String actor) {
        Container c = visible(caller, id);
        String host = hostname(new NewDomain(name, 1).name());
        Claim claim = ingress.claim(host).filter(d -> c.id().equals(d.containerId()))
                .orElseThrow(() -> ProtocolException.notFound("the container has no domain " + host));
        return jobs.call(c.id(), () -> {
            Operation op = begin(c, "domain-remove", actor);
            try {
                removeDomainSteps(c, claim, op.id());
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return null;
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }

    private String hostname(String name) {
        if (ingress == null || domainSettings.suffix() == null) {
            throw ProtocolException.conflict("members' domains are off: this Manager has no --member-domain-suffix");
        }
        return Hostname.parse("name", name + "." + domainSettings.suffix());
    }

    /**
     * Gives the domain a loopback host port and has the Worker forward it to the container port. A port of
     * the range some host process holds is kept while the next is tried, and freed after.
     */
    private int exposePort(Container c, String opId, String host, int containerPort) {
        List<Integer> skipped = new ArrayList<>();
        try {
            for (int attempt = 0; ; attempt++) {
                int hostPort = repo.allocatePort(c.hostId(), c.id(), domainSettings.portMin(), domainSettings.portMax());
                ingress.containerHostPort(host, hostPort);
                note(c.id(), opId, "port: allocated " + hostPort);
                try {
                    get(agents.worker(c.hostId()).lxcPortExpose(new LxcSchema.PortExposeRequest(c.instance(),
                            containerPort, hostPort, "127.0.0.1")));
                    note(c.id(), opId, "lxc: 127.0.0.1:" + hostPort + " forwarded to container port " + containerPort);
                    return hostPort;
                } catch (RuntimeException e) {
                    if (attempt >= 4 || !portTaken(e)) {
                        throw e;
                    }
                    note(c.id(), opId, "port " + hostPort + " is in use on the host: " + message(e));
                    skipped.add(hostPort);
                }
            }
        } finally {
            skipped.forEach(p -> repo.freePort(c.hostId(), p));
        }
    }

    /** Undoes a domain, each step whether or not it was reached: route, port forward, host port, claim. */
    private void removeDomainSteps(Container c, Claim d, String opId) {
        if (d == null) {
            return;
        }
        ingress.pending(d.host(), true);
        unchecked(() -> ingress.unroute(d.hostId(), d.host(), Owner.of(d.owner())));
        note(c.id(), opId, "ingress: " + d.host() + " removed");
        if (d.hostPort() != null) {
            try {
                get(agents.worker(c.hostId()).lxcPortUnexpose(new LxcSchema.PortUnexposeRequest(c.instance(),
                        d.hostPort())));
                note(c.id(), opId, "lxc: port " + d.hostPort() + " no longer forwarded");
            } catch (RuntimeException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            repo.freePort(c.hostId(), d.hostPort());
        }
        ingress.releaseClaim(d.host());
        note(c.id(), opId, "domain: " + d.host() + " released");
    }

    /**
     * A snapshot or backup brings back the devices the container had then: each domain's port forward is
     * put back as the claims say (a forward the claims no longer have, left by the old devices, only holds a
     * loopback port the allocator then skips).
     */
    private void reexposeDomains(Container c, String opId) {
        if (ingress == null) {
            return;
        }
        for (Claim d : ingress.containerClaims(c.id())) {
            if (d.hostPort() != null && !d.pending()) {
                get(agents.worker(c.hostId()).lxcPortExpose(new LxcSchema.PortExposeRequest(c.instance(), d.port(),
                        d.hostPort(), "127.0.0.1")));
                note(c.id(), opId, "lxc: 127.0.0.1:" + d.hostPort() + " forwarded again to container port " + d.port());
            }
        }
    }

    /** The container's routes go with it (its claims are released once the container is gone). */
    private void unrouteAll(Container c, String opId) {
        if (ingress == null) {
            return;
        }
        for (Claim d : ingress.containerClaims(c.id())) {
            unchecked(() -> ingress.unroute(d.hostId(), d.host(), Owner.of(d.owner())));
            note(c.id(), opId, "ingress: " + d.host() + " removed");
        }
    }

    private DomainView domainView(Claim d) {
        String suffix = domainSettings.suffix();
        String name = suffix != null && d.host().endsWith("." + suffix)
                ? d.host().substring(0, d.host().length() - suffix.length() - 1) : d.host();
        return new DomainView(name, d.host(), d.port(), ("off".equals(d.tls()) ? "http://" : "https://") + d.host(),
                d.tls(), d.pending(), d.createdAt());
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void unchecked(Step step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        } catch (Exception e) {
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw c instanceof RuntimeException r ? r : new CompletionException(c);
        }
    }

    /** Marks the container for deletion and deletes it as a job: closes its port, removes it, frees the port. */
    public ContainerView delete(Caller caller, String id, String actor) {
        Container c = visible(caller, id);
        return scheduleDelete(c, actor);
    }

    private ContainerView scheduleDelete(Container c, String actor) {
        if (Containers.CREATING.equals(c.state())) {
            throw ProtocolException.conflict("the container is still being created; delete it once that is done");
        }
        setState(c.id(), Containers.DELETING, c.lastError());
        Operation op = begin(c, "delete", actor);
        jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> runDelete(c.id(), op.id()));
        return view(repo.find(c.id()).orElseThrow(), op.id());
    }

    /** An admin keeps an offboarded member's container: it is no longer deleted after the grace period. */
    public ContainerView keep(String id) {
        Container c = repo.find(id).orElseThrow(() -> ProtocolException.notFound("no container " + id));
        repo.set(c.id(), "deleteAfter", null);
        repo.set(c.id(), "kept", true);
        return view(repo.find(id).orElseThrow(), null);
    }

    public Usage usage(String userId) {
        Users.Quota q = users.quota(userId);
        long n = 0;
        long cpus = 0;
        long mem = 0;
        long disk = 0;
        for (Container c : repo.byOwner(userId)) {
            n++;
            cpus += c.cpus();
            mem += c.memoryBytes();
            disk += c.diskBytes();
        }
        long domains = 0;
        if (ingress != null) {
            for (Container c : repo.byOwner(userId)) {
                domains += ingress.containerClaims(c.id()).size();
            }
        }
        return new Usage(new Use(n, (long) (q.containers() != null ? q.containers() : settings.maxContainers())),
                new Use(cpus, q.cpus() == null ? null : (long) q.cpus()),
                new Use(mem, q.memory() == null ? null : LxcRules.sizeBytes(q.memory())),
                new Use(disk, q.disk() == null ? null : LxcRules.sizeBytes(q.disk())),
                new Use(domains, (long) (q.domains() != null ? q.domains() : domainSettings.maxDomains())));
    }

    /** {@link #offboard(String, String)} on the Manager's own behalf (a member deleted, or gone from the org). */
    public CompletableFuture<List<ContainerView>> offboard(String userId) {
        return offboard(userId, "manager");
    }

    /**
     * A member left: each of their containers is stopped and its port closed, and it is deleted after the
     * grace period unless an admin keeps it. Audited per container. The future completes when all are done.
     */
    public CompletableFuture<List<ContainerView>> offboard(String userId, String actor) {
        List<CompletableFuture<ContainerView>> each = new ArrayList<>();
        Instant deleteAfter = Instant.now().plus(settings.grace());
        for (Container c : repo.byOwner(userId)) {
            if (Containers.DELETING.equals(c.state())) {
                continue;
            }
            each.add(jobs.call(c.id(), () -> {
                Operation op = begin(c, "offboard", actor);
                Container now = repo.find(c.id()).orElse(null);
                if (now == null) {
                    repo.end(op.id(), Containers.OP_SUCCEEDED, "already deleted");
                    return null;
                }
                String error = null;
                if (ingress != null) {
                    for (Claim d : ingress.containerClaims(c.id())) {
                        try {
                            removeDomainSteps(c, d, op.id());
                        } catch (RuntimeException e) {
                            error = "the domain " + d.host() + " could not be removed yet: " + message(e);
                            note(c.id(), op.id(), error);
                        }
                    }
                }
                try {
                    get(agents.guardian(c.hostId()).close(Close.owner(owner(c))));
                    repo.set(c.id(), "portOpen", false);
                    note(c.id(), op.id(), "firewall: closed port " + c.sshPort());
                } catch (RuntimeException e) {
                    error = "the port could not be closed yet (the Guardian's next reconnect closes it): " + message(e);
                    repo.set(c.id(), "portOpen", false);
                    note(c.id(), op.id(), error);
                }
                try {
                    get(agents.worker(c.hostId()).lxcStop(c.instance(), true));
                    note(c.id(), op.id(), "lxc: stopped");
                } catch (RuntimeException e) {
                    if (!notFound(e)) {
                        error = (error == null ? "" : error + "; ") + "not stopped: " + message(e);
                        note(c.id(), op.id(), "lxc: not stopped: " + message(e));
                    }
                }
                setState(c.id(), Containers.STOPPED, error);
                repo.set(c.id(), "deleteAfter", deleteAfter);
                repo.end(op.id(), error == null ? Containers.OP_SUCCEEDED : Containers.OP_FAILED, error);
                audit.record(actor, "container.offboard", target(c), error == null ? "ok" : "partial", null);
                return view(repo.find(c.id()).orElseThrow(), op.id());
            }));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> each.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList());
    }

    /** Deletes the offboarded containers past their grace period; returns how many deletions were queued. */
    public int purge() {
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
        agents.onWorkerConnected(hostId -> work.execute(() -> compare(hostId)));
    }

    /** For {@code /stats}: containers by state, and what the last comparisons with the Workers found. */
    public Map<String, Object> report() {
        Map<String, Long> byState = new java.util.TreeMap<>();
        for (Container c : repo.all()) {
            byState.merge(c.state(), 1L, Long::sum);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("byState", byState);
        out.put("drift", List.copyOf(drift.values()));
        return out;
    }

    // ---- consistency ----

    /**
     * Resolves what a stopped Manager left half-done: a create is rolled back (nothing of it stays), a
     * delete is finished. Each waits for its host's agents, at most the recovery wait.
     */
    public void recoverInterrupted() {
        for (Operation op : repo.unfinished()) {
            Container c = repo.find(op.containerId()).orElse(null);
            if (c == null) {
                repo.end(op.id(), Containers.OP_FAILED, "interrupted by a Manager restart");
                continue;
            }
            if (Containers.CREATING.equals(c.state()) || Containers.DELETING.equals(c.state())) {
                continue; // resolved below, under this operation
            }
            repo.end(op.id(), Containers.OP_FAILED, "interrupted by a Manager restart");
        }
        Map<String, Operation> open = new java.util.HashMap<>();
        repo.unfinished().forEach(o -> open.putIfAbsent(o.containerId(), o));
        for (Container c : repo.all()) {
            Operation op = open.get(c.id());
            if (Containers.CREATING.equals(c.state())) {
                String opId = op != null ? op.id() : begin(c, "create", "recovery").id();
                note(c.id(), opId, "the Manager restarted during this create: rolling it back");
                jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
                    long deadline = System.nanoTime() + settings.recoveryWait().toNanos();
                    // The Worker may still be busy with the create it was given: try again until it answers.
                    while (awaitAgents(c.hostId()) && !rollback(c.id(), opId, "interrupted by a Manager restart")
                            && System.nanoTime() < deadline) {
                        if (!pause(Duration.ofSeconds(1))) {
                            return;
                        }
                    }
                });
            } else if (Containers.DELETING.equals(c.state())) {
                String opId = op != null ? op.id() : begin(c, "delete", "recovery").id();
                note(c.id(), opId, "the Manager restarted during this delete: finishing it");
                jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
                    if (awaitAgents(c.hostId())) {
                        runDelete(c.id(), opId);
                    }
                });
            }
        }
        recoverDomains();
    }

    /** A domain an interrupted operation left pending is removed, route, forward, port and claim. */
    private void recoverDomains() {
        if (ingress == null) {
            return;
        }
        for (Claim d : ingress.pendingContainerClaims()) {
            Container c = repo.find(d.containerId()).orElse(null);
            if (c == null) {
                ingress.releaseClaim(d.host()); // the container's delete released its ports
                continue;
            }
            Operation op = begin(c, "domain-remove", "recovery");
            note(c.id(), op.id(), "the Manager restarted while " + d.host() + " was being changed: removing it");
            jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
                if (!awaitAgents(c.hostId())) {
                    repo.end(op.id(), Containers.OP_FAILED, "the host's agents did not connect; retried at the next start");
                    return;
                }
                try {
                    removeDomainSteps(c, d, op.id());
                    repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                } catch (RuntimeException e) {
                    repo.end(op.id(), Containers.OP_FAILED, message(e));
                }
            });
        }
    }

    private static boolean pause(Duration d) {
        try {
            TimeUnit.MILLISECONDS.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean awaitAgents(String hostId) {
        long deadline = System.nanoTime() + settings.recoveryWait().toNanos();
        while (System.nanoTime() < deadline) {
            HostAgents h = agents.get(hostId).orElse(null);
            if (h == null) {
                return false;
            }
            if (h.worker().connected() && h.guardian().connected()) {
                return true;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /**
     * Compares the Worker's containers with the records of its host: a record without its container is
     * missing, a hostdeploy container without a record is foreign. Both are reported (in {@code /stats}
     * and the audit log), never deleted: an admin decides.
     */
    void compare(String hostId) {
        try {
            String hostName = agents.get(hostId).map(HostAgents::hostName).orElse(hostId);
            LxcSchema.ContainerList list = get(agents.worker(hostId).lxcList(null));
            Map<String, LxcSchema.Container> live = new LinkedHashMap<>();
            list.containers().forEach(x -> live.put(x.name(), x));
            List<Container> records = repo.byHost(hostId);
            java.util.Set<String> recorded = new java.util.HashSet<>();
            List<String> missing = new ArrayList<>();
            for (Container c : records) {
                recorded.add(c.instance());
                if (!Containers.BUSY.contains(c.state()) && !live.containsKey(c.instance())) {
                    missing.add(c.instance());
                }
            }
            List<String> foreign = new ArrayList<>();
            for (LxcSchema.Container x : live.values()) {
                if (!recorded.contains(x.name())) {
                    foreign.add(x.name());
                }
            }
            Drift before = drift.put(hostId, new Drift(hostName, missing, foreign, Instant.now()));
            for (String m : missing) {
                if (before == null || !before.missing().contains(m)) {
                    audit.record("manager", "container.missing", "host/" + hostName + "/" + m, "reported", null);
                }
            }
            for (String f : foreign) {
                if (before == null || !before.foreign().contains(f)) {
                    audit.record("manager", "container.foreign", "host/" + hostName + "/" + f, "reported", null);
                }
            }
            if (!missing.isEmpty() || !foreign.isEmpty()) {
                LOG.warn("host {}: containers missing on the worker {}, on the worker without a record {}", hostName,
                        missing, foreign);
            }
        } catch (RuntimeException e) {
            LOG.info("host {}: the worker's containers could not be compared with the records: {}", hostId, message(e));
        }
    }

    // ---- jobs ----

    private void runCreate(String id, String opId) {
        Container c = repo.find(id).orElse(null);
        if (c == null) {
            return;
        }
        try {
            int port = 0;
            Created created = null;
            // A port of the range some host process holds is kept by this container (so the next try gets
            // another) and freed once a port worked.
            for (int attempt = 0; created == null; attempt++) {
                port = repo.allocatePort(c.hostId(), c.id(), settings.portMin(), settings.portMax());
                repo.set(id, "sshPort", port);
                note(c.id(), opId, "port: allocated " + port);
                try {
                    created = createInstance(c, opId, port);
                } catch (RuntimeException e) {
                    if (attempt >= 4 || !portTaken(e)) {
                        throw e;
                    }
                    note(c.id(), opId, "port " + port + " is in use on the host: " + message(e));
                }
            }
            repo.freePortsExcept(id, port);
            note(c.id(), opId, "lxc: created (ssh " + created.ssh() + ")");
            if (created.sshExposed() == null) {
                // A Worker from before lxc.create took the port: expose it as a step of its own.
                get(agents.worker(c.hostId()).lxcSshExpose(new ExposeRequest(c.instance(), port, null)));
            }
            note(c.id(), opId, "lxc: ssh exposed on port " + port);
            get(agents.guardian(c.hostId()).open(RuleData.port(Proto.TCP, port, owner(c))));
            repo.set(id, "portOpen", true);
            note(c.id(), opId, "firewall: opened tcp " + port);
            setState(id, state(created.status()), null);
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
                return get(agents.worker(c.hostId()).lxcCreate(request, p -> note(c.id(), opId, "lxc: " + p.step())));
            } catch (RuntimeException e) {
                if (attempt >= 2 || !transientFailure(e)) {
                    throw e;
                }
                // LXD sometimes fails a start when several run at once (forkstart ... exit status 1), and the
                // Worker's own cleanup may still be stopping what it made: remove that, then try again.
                note(c.id(), opId, "lxc: failed (" + message(e) + "); trying again");
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

    /** The Worker refused the port: another container's proxy or a host process holds it. */
    private static boolean portTaken(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT
                && a.error().message() != null && a.error().message().contains("host port");
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
    private boolean rollback(String id, String opId, String error) {
        Container c = repo.find(id).orElse(null);
        if (c == null) {
            return true;
        }
        note(c.id(), opId, "failed: " + error + "; rolling back");
        try {
            get(agents.guardian(c.hostId()).close(Close.owner(owner(c))));
            note(c.id(), opId, "rollback: firewall closed");
            try {
                get(agents.worker(c.hostId()).lxcDelete(c.instance(), true));
                note(c.id(), opId, "rollback: container removed");
            } catch (RuntimeException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            repo.freePorts(id);
            repo.delete(id);
            repo.end(opId, Containers.OP_ROLLED_BACK, error);
            events.forget(id);
            LOG.info("create of container {} of {} failed and was rolled back: {}", c.name(), c.ownerName(), error);
            return true;
        } catch (RuntimeException e) {
            String left = error + "; rollback incomplete: " + message(e);
            setState(id, Containers.CREATING, left);
            note(c.id(), opId, "rollback incomplete, retried at the next start: " + message(e));
            LOG.warn("container {}: {}", c.instance(), left);
            return false;
        }
    }

    private void runDelete(String id, String opId) {
        Container c = repo.find(id).orElse(null);
        if (c == null) {
            repo.end(opId, Containers.OP_SUCCEEDED, null);
            return;
        }
        try {
            unrouteAll(c, opId);
            get(agents.guardian(c.hostId()).close(Close.owner(owner(c))));
            repo.set(id, "portOpen", false);
            note(c.id(), opId, "firewall: closed");
            try {
                get(agents.worker(c.hostId()).lxcDelete(c.instance(), true));
            } catch (RuntimeException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            note(c.id(), opId, "lxc: removed");
            // Freed only once the container (and its proxy devices) is gone, so the next one can bind them.
            if (ingress != null) {
                ingress.containerClaims(id).forEach(d -> ingress.releaseClaim(d.host()));
            }
            repo.freePorts(id);
            repo.delete(id);
            note(c.id(), opId, "port freed, record removed");
            repo.end(opId, Containers.OP_SUCCEEDED, null);
            events.forget(id);
        } catch (RuntimeException e) {
            if (jobs.closing() || interrupted(e)) {
                Thread.currentThread().interrupt();
                return;
            }
            setState(id, Containers.DELETING, "delete failed (DELETE again to retry): " + message(e));
            repo.end(opId, Containers.OP_FAILED, message(e));
        }
    }

    private Operation begin(Container c, String kind, String actor) {
        Operation op = repo.begin(c.id(), c.ownerId(), kind, actor);
        events.began(c.id(), op.id(), kind);
        return op;
    }

    private void note(String containerId, String opId, String line) {
        repo.step(opId, line);
        events.step(containerId, opId, line);
    }

    private void setState(String containerId, String state, String error) {
        repo.state(containerId, state, error);
        events.state(containerId, state, error);
    }

    /** Follows the container's operations: the current one's steps so far, then live steps and state changes. */
    public void follow(Caller caller, String id, io.javalin.http.sse.SseClient client) {
        events.subscribe(visible(caller, id).id(), client);
    }

    /** 404 unless the caller may see the container (before a stream is opened). */
    public void requireVisible(Caller caller, String id) {
        visible(caller, id);
    }

    // ---- the Guardian's desired state ----

    @Override
    public String ownerKind() {
        return OWNER_KIND;
    }

    @Override
    public List<RuleData> rules(String hostId) {
        return repo.byHost(hostId).stream().filter(c -> c.portOpen() && c.sshPort() != null)
                .map(c -> RuleData.port(Proto.TCP, c.sshPort(), owner(c))).toList();
    }

    @Override
    public boolean busy(Owner owner) {
        return jobs.busy(owner.name());
    }

    // ---- helpers ----

    private void checkQuota(String ownerId, ContainerSize size) {
        Usage u = usage(ownerId);
        check("containers", u.containers(), 1);
        check("cpus", u.cpus(), size.cpus());
        check("memory", u.memory(), size.memoryBytes());
        check("disk", u.disk(), size.diskBytes());
    }

    private static void check(String limit, Use use, long more) {
        if (use.limit() != null && use.used() + more > use.limit()) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("limit", limit);
            details.put("quota", use.limit());
            details.put("used", use.used());
            details.put("requested", more);
            throw new ApiException(409, "quota_exceeded", "over quota: " + limit + " would be " + (use.used() + more)
                    + ", the quota is " + use.limit(), details);
        }
    }

    private static ApiException noCapacity(String message) {
        return new ApiException(503, "no_capacity", message, Map.of("source", "manager", "retryable", true));
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

    /** The container if the caller may see it; another member's is 404, never 403. */
    private Container visible(Caller caller, String id) {
        Container c = repo.find(id).orElse(null);
        if (c == null || (!caller.admin() && !caller.id().equals(c.ownerId()))) {
            throw ProtocolException.notFound("no container " + id);
        }
        return c;
    }

    private static Container idle(Container c) {
        if (Containers.BUSY.contains(c.state())) {
            throw ProtocolException.conflict("the container is " + c.state());
        }
        return c;
    }

    private static List<String> allowedImages(AgentConnection worker) {
        AgentInfo info = worker.info();
        if (info == null || info.details() == null || info.details().isNull()) {
            return List.of();
        }
        try {
            return ManagerJson.MAPPER.treeToValue(info.details(), LxcSchema.WorkerInfo.class).allowedImages();
        } catch (Exception e) {
            return List.of();
        }
    }

    static Owner owner(Container c) {
        return Owner.of(OWNER_KIND, c.id());
    }

    private static String target(Container c) {
        return "container/" + c.ownerName() + "/" + c.name();
    }

    private static String state(String lxdStatus) {
        return lxdStatus == null ? Containers.STOPPED : lxdStatus.toLowerCase(Locale.ROOT);
    }

    private ContainerView view(Container c, String opId) {
        Hosts.Host host = null;
        try {
            host = hosts.require(c.hostId());
        } catch (ProtocolException e) {
            // The host was deleted: the record stays until an admin deletes it.
        }
        Ssh ssh = null;
        if (c.sshPort() != null && host != null) {
            String h = host.sshHost();
            String at = h.contains(":") ? "[" + h + "]" : h;
            ssh = new Ssh(h, c.sshPort(), "ssh -p " + c.sshPort() + " root@" + at);
        }
        return new ContainerView(c.id(), c.name(), c.ownerName(), host == null ? null : host.name(), c.state(),
                c.image(), c.size(), ssh, c.createdAt(), c.ownerId(), c.hostId(), c.deleteAfter(), c.kept(),
                c.lastError(), opId);
    }

    /** Waits for an agent call; its failure is rethrown as the agent's own error. */
    private static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : new CompletionException(c);
        }
    }

    private static boolean interrupted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException) {
                return true;
            }
        }
        return Thread.currentThread().isInterrupted();
    }

    private static boolean notFound(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof AgentCallException a && a.code() == ErrorCode.NOT_FOUND;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        work.shutdownNow();
        jobs.close();
    }
}
