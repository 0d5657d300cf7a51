package dev.hostdeploy.schema.lxc;

import static dev.hostdeploy.protocol.Validation.require;
import static dev.hostdeploy.protocol.Validation.required;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.schema.Owner;
import java.util.List;

/**
 * The Worker's lxc.* commands: members' system containers. Every request is checked here, in the
 * records' constructors, before LXD is asked anything; replies are what the Worker answers.
 */
public final class LxcSchema {
    public static final String CREATE = "lxc.create";
    public static final String START = "lxc.start";
    public static final String STOP = "lxc.stop";
    public static final String RESTART = "lxc.restart";
    public static final String DELETE = "lxc.delete";
    public static final String GET = "lxc.get";
    public static final String LIST = "lxc.list";
    public static final String KEYS_SET = "lxc.keys.set";
    public static final String LIMITS_SET = "lxc.limits.set";
    public static final String SSH_EXPOSE = "lxc.ssh.expose";
    public static final String SSH_UNEXPOSE = "lxc.ssh.unexpose";
    public static final String PORT_EXPOSE = "lxc.port.expose";
    public static final String PORT_UNEXPOSE = "lxc.port.unexpose";
    public static final String SNAPSHOT_CREATE = "lxc.snapshot.create";
    public static final String SNAPSHOT_LIST = "lxc.snapshot.list";
    public static final String SNAPSHOT_RESTORE = "lxc.snapshot.restore";
    public static final String SNAPSHOT_DELETE = "lxc.snapshot.delete";
    public static final String SNAPSHOT_SCHEDULE = "lxc.snapshot.schedule";
    public static final String BACKUP_CREATE = "lxc.backup.create";
    public static final String BACKUP_LIST = "lxc.backup.list";
    public static final String BACKUP_RESTORE = "lxc.backup.restore";
    public static final String BACKUP_DELETE = "lxc.backup.delete";

    /** What {@link Container#ssh()} says. */
    public static final String SSH_RUNNING = "running";
    public static final String SSH_UNAVAILABLE = "unavailable";

    private LxcSchema() {
    }

    // ---- requests ------------------------------------------------------------------------------

    /** Limits to set; each null one is left as it is. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Limits(Integer cpu, String memory, String disk) {
        public Limits {
            if (cpu != null) {
                require(cpu >= 1 && cpu <= LxcRules.MAX_CPU, "limits.cpu", "must be a CPU count from 1 to " + LxcRules.MAX_CPU);
            }
            if (memory != null) {
                LxcRules.size(memory, "limits.memory", LxcRules.MIN_MEMORY, LxcRules.MAX_MEMORY);
            }
            if (disk != null) {
                LxcRules.size(disk, "limits.disk", LxcRules.MIN_DISK, LxcRules.MAX_DISK);
            }
        }

        public static Limits none() {
            return new Limits(null, null, null);
        }

        public boolean isEmpty() {
            return cpu == null && memory == null && disk == null;
        }
    }

    /**
     * {@code lxc.create}. The image must also be one the Worker allows (checked there). {@code sshPort}
     * (with {@code sshAddress}, default all IPv4): exposed as {@code lxc.ssh.expose} would, but made with
     * the container, which saves a change to a running one; null: not exposed.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record CreateRequest(String name, String image, Owner owner, List<String> sshKeys, Limits limits,
                                Integer sshPort, String sshAddress) {
        public CreateRequest {
            LxcRules.name(name, "name");
            LxcRules.image(image, "image");
            required(owner, "owner");
            sshKeys = sshKeys == null ? List.of() : List.copyOf(sshKeys);
            SshKeys.parseAll(sshKeys, "sshKeys");
            limits = limits == null ? Limits.none() : limits;
            if (sshPort != null) {
                require(sshPort >= 1024 && sshPort <= 65535, "sshPort", "must be from 1024 to 65535");
                sshAddress = sshAddress == null ? "0.0.0.0" : sshAddress;
                require(LxcRules.isIpLiteral(sshAddress), "sshAddress", "must be an IPv4 or IPv6 address literal");
            } else {
                require(sshAddress == null, "sshAddress", "is only meaningful with sshPort");
            }
        }

        public CreateRequest(String name, String image, Owner owner, List<String> sshKeys, Limits limits) {
            this(name, image, owner, sshKeys, limits, null, null);
        }

        /** The keys, parsed (duplicates dropped). */
        public List<SshKeys.Key> keys() {
            return SshKeys.parseAll(sshKeys, "sshKeys");
        }
    }

    /** {@code lxc.start}, {@code lxc.restart}, {@code lxc.get}, {@code lxc.ssh.unexpose}, {@code lxc.snapshot.list},
     * {@code lxc.backup.create}, {@code lxc.backup.list}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NameRequest(String name) {
        public NameRequest {
            LxcRules.name(name, "name");
        }
    }

    /** {@code lxc.stop}, {@code lxc.delete}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ForceRequest(String name, Boolean force) {
        public ForceRequest {
            LxcRules.name(name, "name");
            force = force != null && force;
        }
    }

    /** {@code lxc.list}: all of hostdeploy's containers, or those of one owner. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ListRequest(Owner owner) {
    }

    /** {@code lxc.keys.set}: replaces the keys. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record KeysRequest(String name, List<String> sshKeys) {
        public KeysRequest {
            LxcRules.name(name, "name");
            required(sshKeys, "sshKeys");
            sshKeys = List.copyOf(sshKeys);
            SshKeys.parseAll(sshKeys, "sshKeys");
        }

        public List<SshKeys.Key> keys() {
            return SshKeys.parseAll(sshKeys, "sshKeys");
        }
    }

    /** {@code lxc.limits.set}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record LimitsRequest(String name, Limits limits) {
        public LimitsRequest {
            LxcRules.name(name, "name");
            required(limits, "limits");
            require(!limits.isEmpty(), "limits", "set at least one of cpu, memory, disk");
        }
    }

    /** {@code lxc.ssh.expose}: the host port (on {@code address}, default all IPv4) forwarded to the container's sshd. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ExposeRequest(String name, Integer hostPort, String address) {
        public ExposeRequest {
            LxcRules.name(name, "name");
            required(hostPort, "hostPort");
            require(hostPort >= 1024 && hostPort <= 65535, "hostPort", "must be from 1024 to 65535");
            address = address == null ? "0.0.0.0" : address;
            require(LxcRules.isIpLiteral(address), "address", "must be an IPv4 or IPv6 address literal");
        }
    }

    /**
     * {@code lxc.port.expose}: forwards {@code address:hostPort} of the host to {@code containerPort} inside
     * the container (an LXD proxy device named {@code hostdeploy-port-HOSTPORT}), for the host's Caddy to
     * reach a member's service. Loopback only ({@code 127.0.0.1}, the default, or {@code ::1}): what is
     * public goes through the HTTP(S) front, never straight to the container.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PortExposeRequest(String name, Integer containerPort, Integer hostPort, String address) {
        public PortExposeRequest {
            LxcRules.name(name, "name");
            required(containerPort, "containerPort");
            require(containerPort >= 1 && containerPort <= 65535, "containerPort", "must be from 1 to 65535");
            required(hostPort, "hostPort");
            require(hostPort >= 1024 && hostPort <= 65535, "hostPort", "must be from 1024 to 65535");
            address = address == null ? "127.0.0.1" : address;
            require(address.equals("127.0.0.1") || address.equals("::1"), "address",
                    "must be a loopback address (127.0.0.1 or ::1)");
        }
    }

    /** {@code lxc.port.unexpose}: removes the forward of {@code hostPort}; nothing to remove is no error. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PortUnexposeRequest(String name, Integer hostPort) {
        public PortUnexposeRequest {
            LxcRules.name(name, "name");
            required(hostPort, "hostPort");
            require(hostPort >= 1024 && hostPort <= 65535, "hostPort", "must be from 1024 to 65535");
        }
    }

    /** {@code lxc.snapshot.create}, {@code lxc.snapshot.restore}, {@code lxc.snapshot.delete}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SnapshotRequest(String name, String snapshot) {
        public SnapshotRequest {
            LxcRules.name(name, "name");
            LxcRules.snapshot(snapshot, "snapshot");
        }
    }

    /** {@code lxc.snapshot.schedule}: LXD's own schedule and expiry; empty turns each off. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ScheduleRequest(String name, String schedule, String expiry) {
        public ScheduleRequest {
            LxcRules.name(name, "name");
            schedule = schedule == null ? "" : schedule.strip();
            expiry = expiry == null ? "" : expiry.strip();
            LxcRules.schedule(schedule, "schedule");
            LxcRules.expiry(expiry, "expiry");
        }
    }

    /** {@code lxc.backup.delete}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BackupRef(String name, String backup) {
        public BackupRef {
            LxcRules.name(name, "name");
            LxcRules.backup(backup, "backup");
        }
    }

    /** {@code lxc.backup.restore}: as {@code asName}, by default the container it was taken of. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BackupRestoreRequest(String name, String backup, String asName) {
        public BackupRestoreRequest {
            LxcRules.name(name, "name");
            LxcRules.backup(backup, "backup");
            asName = asName == null ? name : asName;
            LxcRules.name(asName, "asName");
        }
    }

    // ---- replies -------------------------------------------------------------------------------

    /**
     * A container's limits as LXD applies them; null where none is set. {@code cpu} is null also when
     * the operator set a CPU set ("0-3") rather than a count.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record AppliedLimits(Integer cpu, String memory, String disk) {
    }

    /** LXD's scheduled snapshots of a container; empty strings when off. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SnapshotSchedule(String schedule, String expiry) {
    }

    /**
     * The view of one container: the reply of most commands. {@code addresses} leaves loopback out;
     * {@code ssh} is {@link #SSH_RUNNING} or {@link #SSH_UNAVAILABLE}; {@code sshExposed} is the
     * exposed {@code address:port} or null. The owner is null only for a container recorded with an
     * owner that is not {@code kind/name}.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Container(String name, Owner owner, String image, String status, AppliedLimits limits,
                            List<String> addresses, String ssh, String sshExposed, SnapshotSchedule snapshots,
                            String createdAt) {
        public Container {
            addresses = addresses == null ? List.of() : List.copyOf(addresses);
        }

        public Container withSsh(String state) {
            return new Container(name, owner, image, status, limits, addresses, state, sshExposed, snapshots, createdAt);
        }
    }

    /** {@code lxc.create}'s reply: the container's view, flat, plus why SSH is unavailable when it is. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Created(String name, Owner owner, String image, String status, AppliedLimits limits,
                          List<String> addresses, String ssh, String sshExposed, SnapshotSchedule snapshots,
                          String createdAt, String sshReason) {
        public static Created of(Container c, String sshReason) {
            return new Created(c.name(), c.owner(), c.image(), c.status(), c.limits(), c.addresses(), c.ssh(),
                    c.sshExposed(), c.snapshots(), c.createdAt(), sshReason);
        }

        public Container container() {
            return new Container(name, owner, image, status, limits, addresses, ssh, sshExposed, snapshots, createdAt);
        }
    }

    /** {@code lxc.list}'s reply, by name. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ContainerList(List<Container> containers) {
    }

    /** {@code lxc.delete}'s reply. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Deleted(String name, boolean deleted) {
    }

    /** {@code lxc.keys.set}'s reply: the installed keys' SHA256 fingerprints, as ssh-keygen -l prints them. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record KeysSet(String name, List<String> fingerprints) {
    }

    /** One snapshot; {@code expiresAt} is null when it never expires. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Snapshot(String name, String createdAt, String expiresAt) {
    }

    /** {@code lxc.snapshot.list}'s reply, oldest first. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SnapshotList(String name, List<Snapshot> snapshots) {
    }

    /** {@code lxc.snapshot.delete}'s reply. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SnapshotDeleted(String name, String snapshot, boolean deleted) {
    }

    /** One backup on the host; {@code sha256} is null when its checksum file is missing. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Backup(String name, String backup, long size, String sha256, String createdAt) {
    }

    /** {@code lxc.backup.list}'s reply, oldest first. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BackupList(String name, List<Backup> backups) {
    }

    /** {@code lxc.backup.create}'s reply: the new backup, where it is on the host, and the ids pruned. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BackupCreated(String name, String backup, long size, String sha256, String createdAt, String path,
                                List<String> pruned) {
    }

    /** {@code lxc.backup.delete}'s reply. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BackupDeleted(String name, String backup, boolean deleted) {
    }

    /**
     * What a Worker reports about its containers in the protocol's {@code info} ({@code details}): the
     * image aliases members may create containers from there. The Manager places containers with it.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record WorkerInfo(List<String> allowedImages) {
        public WorkerInfo {
            allowedImages = allowedImages == null ? List.of() : List.copyOf(allowedImages);
        }
    }

    /** The progress frames of the long commands: {@code creating}, {@code starting}, {@code ssh}, {@code exporting}, ... */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Progress(String step) {
    }
}
