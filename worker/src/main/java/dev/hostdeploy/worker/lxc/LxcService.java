package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
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
    static final Duration OP_TIMEOUT = Duration.ofMinutes(10);
    static final int STOP_TIMEOUT_SECONDS = 30;
    private static final long LOCK_WAIT_SECONDS = 30;

    final LxdClient lxd;
    final LxcOptions options;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
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

    static String path(String name) {
        return "/1.0/instances/" + LxdClient.enc(name);
    }

    /** The instance, or null when LXD has none by that name. */
    LxdInstance find(String name) {
        try {
            return LxdInstance.of(lxd.get(path(name)));
        } catch (ProtocolException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    /**
     * A container hostdeploy manages. Others on the same LXD (the operator's own) are invisible: they
     * answer not_found exactly like a missing one.
     */
    LxdInstance require(String name) {
        LxdInstance i = find(name);
        if (i == null || i.owner() == null) {
            throw ProtocolException.notFound("no container named '" + name + "'");
        }
        return i;
    }

    /** Runs {@code body} holding the container's lock, so two commands never race on one container. */
    <T> T locked(String name, Supplier<T> body) {
        ReentrantLock lock = locks.computeIfAbsent(name, k -> new ReentrantLock());
        boolean got;
        try {
            got = lock.tryLock(LOCK_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ProtocolException.busy("interrupted while waiting for container '" + name + "'");
        }
        if (!got) {
            throw ProtocolException.busy("container '" + name + "' is busy with another command");
        }
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    void changeState(String name, String action, boolean force) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("action", action);
        body.put("timeout", STOP_TIMEOUT_SECONDS);
        body.put("force", force);
        lxd.run("PUT", path(name) + "/state", body, OP_TIMEOUT);
    }

    void patchConfig(String name, Map<String, String> config) {
        lxd.sync("PATCH", path(name), Map.of("config", config));
    }

    /** Replaces the whole device set: PATCH merges devices, so removing one needs a PUT. */
    void putDevices(LxdInstance instance, Map<String, Map<String, String>> devices) {
        JsonNode full = lxd.get(path(instance.name()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("architecture", full.path("architecture").asText());
        body.put("config", instance.config());
        body.put("devices", devices);
        body.put("ephemeral", full.path("ephemeral").asBoolean());
        body.put("profiles", full.path("profiles"));
        body.put("stateful", full.path("stateful").asBoolean());
        body.put("description", full.path("description").asText(""));
        lxd.run("PUT", path(instance.name()), body, OP_TIMEOUT);
    }

    /** The pool that holds root disks by default (from the default profile). */
    String defaultPool() {
        JsonNode devices = lxd.get("/1.0/profiles/default").path("devices");
        for (JsonNode d : devices) {
            if ("disk".equals(d.path("type").asText()) && "/".equals(d.path("path").asText())) {
                return d.path("pool").asText();
            }
        }
        throw new ProtocolException(ErrorCode.UNAVAILABLE,
                "LXD's default profile has no root disk; the operator must set up storage first");
    }

    /** The reply a member sees for one container. */
    record View(String name, String owner, String image, String status, Map<String, Object> limits,
                List<String> addresses, String ssh, String sshExposed, Map<String, String> snapshots,
                String createdAt) {
        View withSsh(String state) {
            return new View(name, owner, image, status, limits, addresses, state, sshExposed, snapshots, createdAt);
        }
    }

    View view(String name) {
        return view(LxdInstance.of(lxd.get(path(name))));
    }

    /**
     * The view of a container from a fresh plain read of it. Only one with a network gets its state
     * (addresses) read too: LXD gathers that by entering the container, which is the dear part.
     */
    View view(LxdInstance plain) {
        if (!plain.hasNetwork()) {
            return view(plain, null);
        }
        LxdInstance i = LxdInstance.of(lxd.get(path(plain.name()) + "?recursion=1"));
        // LXD 5 (instance_get_full) and Incus put the state in that reply: no need to ask /state.
        return view(i, i.state() != null ? i.state() : state(plain.name()));
    }

    LxdInstance.State state(String name) {
        try {
            return LxdInstance.State.of(lxd.get(path(name) + "/state"));
        } catch (ProtocolException e) {
            return null;
        }
    }

    static View view(LxdInstance i, LxdInstance.State state) {
        Map<String, Object> limits = new LinkedHashMap<>();
        String cpu = i.config().get("limits.cpu");
        limits.put("cpu", cpu == null ? null : parseIntOrText(cpu));
        limits.put("memory", i.config().get("limits.memory"));
        limits.put("disk", i.rootDisk().get("size"));
        Map<String, String> proxy = i.devices().get(SSH_DEVICE);
        String exposed = proxy == null ? null : proxy.getOrDefault("listen", "").replaceFirst("^tcp:", "");
        Map<String, String> snapshots = new LinkedHashMap<>();
        snapshots.put("schedule", i.config().getOrDefault("snapshots.schedule", ""));
        snapshots.put("expiry", i.config().getOrDefault("snapshots.expiry", ""));
        List<String> addresses = state == null ? List.of() : state.addresses();
        String status = state != null && state.status() != null ? state.status() : i.status();
        return new View(i.name(), i.owner(), i.config().get(IMAGE_KEY), status, limits, new ArrayList<>(addresses),
                i.config().get(SSH_KEY), exposed, snapshots, i.createdAt());
    }

    private static Object parseIntOrText(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return s;
        }
    }
}
