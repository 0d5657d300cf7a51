package dev.hostdeploy.manager.containers;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.protocol.Validation;
import dev.hostdeploy.schema.ingress.Hostname;
import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.SshKeys;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** What the containers API takes and answers: the request bodies, checked as they are read, and the views. */
public final class ContainerApi {
    /** Member names become part of the LXD instance name {@code m-XXXXXXXX-NAME} (at most 63). */
    static final int MAX_NAME = 52;

    private ContainerApi() {
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
}
