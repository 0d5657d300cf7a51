package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.lxc.LxcSchema.AppliedLimits;
import dev.hostdeploy.schema.lxc.LxcSchema.Container;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotSchedule;
import dev.hostdeploy.worker.NameLocks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * What the lxc.* command groups share: lookups that only see hostdeploy's own containers, a lock per
 * container name, and the reply view of a container.
 */
final class LxcService {
    static final String OWNER_KEY = "user.hostdeploy.owner";
    static final String IMAGE_KEY = "user.hostdeploy.image";
    static final String SSH_KEY = "user.hostdeploy.ssh";
    static final String SSH_DEVICE = "hostdeploy-ssh";
    /** {@code lxc.port.expose}'s devices: {@code hostdeploy-port-HOSTPORT}. */
    static final String PORT_DEVICE_PREFIX = "hostdeploy-port-";
    static final int STOP_TIMEOUT_SECONDS = 30;
    /**
     * Pinned on every container the Worker creates or restores, whatever the default profile says:
     * never privileged (root inside is not root on the host), and an id range of its own (LXD maps each
     * isolated container to 65536 host ids no other container uses), so one member's root maps to other
     * host uids than another's. The ranges come out of root's /etc/subuid and /etc/subgid entry.
     */
    static final Map<String, String> CONFINEMENT = Map.of(
            "security.privileged", "false",
            "security.idmap.isolated", "true");

    final LxdClient lxd;
    final LxcOptions options;
    private final NameLocks locks = new NameLocks("container", Duration.ofSeconds(30));
    /** For the few steps that run beside a command's main line (blocking LXD calls). */
    final ExecutorService background = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "lxc-background");
        t.setDaemon(true);
        return t;
    });

    LxcService(LxdClient lxd, LxcOptions options) {
        this.lxd = lxd;
        this.options = options;
    }

    LxdClient.Instances instances() {
        return lxd.instances();
    }

    /** Any instance by that name, also one hostdeploy does not manage. */
    Optional<LxdInstance> find(String name) {
        return lxd.instances().find(name);
    }

    /**
     * A container hostdeploy manages. Others on the same LXD (the operator's own) are invisible: they
     * answer not_found exactly like a missing one.
     */
    LxdInstance require(String name) {
        return find(name).filter(LxdInstance::managed)
                .orElseThrow(() -> ProtocolException.notFound("no container named '" + name + "'"));
    }

    /** Runs {@code body} holding the container's lock, so two commands never race on one container. */
    <T> T locked(String name, Supplier<T> body) {
        return locks.locked(name, body);
    }

    void changeState(String name, String action, boolean force) {
        lxd.instances().changeState(name, action, force, STOP_TIMEOUT_SECONDS);
    }

    void patchConfig(String name, Map<String, String> config) {
        lxd.instances().patch(name, config, null);
    }

    /** The pool that holds root disks by default (from the default profile). */
    String defaultPool() {
        return lxd.rootPool("default").orElseThrow(() -> new ProtocolException(ErrorCode.UNAVAILABLE,
                "LXD's default profile has no root disk; the operator must set up storage first"));
    }

    Container view(String name) {
        return view(find(name).orElseThrow(() -> ProtocolException.notFound("no container named '" + name + "'")));
    }

    /**
     * The view of a container from a fresh plain read of it. Only one with a network gets its state
     * (addresses) read too: LXD gathers that by entering the container, which is the dear part.
     */
    Container view(LxdInstance plain) {
        if (!plain.hasNetwork()) {
            return view(plain, null);
        }
        LxdInstance i = lxd.instances().findWithState(plain.name())
                .orElseThrow(() -> ProtocolException.notFound("no container named '" + plain.name() + "'"));
        return view(i, i.state());
    }

    static Container view(LxdInstance i, LxdInstance.State state) {
        String cpu = i.config().get("limits.cpu");
        AppliedLimits limits = new AppliedLimits(cpu == null ? null : cpuCount(cpu), i.config().get("limits.memory"),
                i.rootDisk().get("size"));
        Map<String, String> proxy = i.devices().get(SSH_DEVICE);
        String exposed = proxy == null ? null : proxy.getOrDefault("listen", "").replaceFirst("^tcp:", "");
        SnapshotSchedule snapshots = new SnapshotSchedule(i.config().getOrDefault("snapshots.schedule", ""),
                i.config().getOrDefault("snapshots.expiry", ""));
        List<String> addresses = state == null ? List.of() : state.addresses();
        String status = state != null && state.status() != null ? state.status() : i.status();
        return new Container(i.name(), owner(i.owner()), i.config().get(IMAGE_KEY), status, limits, addresses,
                i.config().get(SSH_KEY), exposed, snapshots, i.createdAt());
    }

    /** The recorded owner; null for one recorded before owners were kind/name. */
    static Owner owner(String recorded) {
        try {
            return recorded == null ? null : Owner.parse("owner", recorded);
        } catch (ProtocolException e) {
            return null;
        }
    }

    /** A CPU count; null for a CPU set ("0-3") an operator set by hand. */
    private static Integer cpuCount(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
