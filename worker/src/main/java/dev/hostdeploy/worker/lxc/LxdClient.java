package dev.hostdeploy.worker.lxc;

import static dev.hostdeploy.worker.lxc.LxdTransport.OP_TIMEOUT;
import static dev.hostdeploy.worker.lxc.LxdTransport.enc;
import static dev.hostdeploy.worker.lxc.LxdTransport.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The LXD (or Incus) REST API on its unix socket, as typed calls in the manner of Incus's Go client:
 * {@code instances().find(name)}, {@code instances().snapshots(name).create(...)}. "Absent" is an empty
 * {@code Optional}, never a caught {@code not_found}. The HTTP, the waiting for background operations and
 * the mapping of LXD's errors are {@link LxdTransport}'s.
 */
final class LxdClient implements AutoCloseable {
    static final List<Path> DEFAULT_SOCKETS = List.of(
            Path.of("/var/lib/lxd/unix.socket"),
            Path.of("/var/snap/lxd/common/lxd/unix.socket"),
            Path.of("/var/lib/incus/unix.socket"));

    private final Path socket;
    private final LxdTransport lxd;
    private final Instances instances = new Instances();
    /**
     * LXD 5.0 picks an isolated container's id range when it creates it, from the ranges the others
     * hold, without a lock of its own: creates at once got the same range (two members' roots as one
     * host uid) or one outside root's (the start then failed in forkstart). One create at a time.
     */
    private final Object creating = new Object();

    LxdClient(Path socket) {
        this.socket = socket;
        this.lxd = new LxdTransport(socket);
    }


    /** The explicit socket if given, else the first default that exists. */
    static Path findSocket(Path explicit) {
        if (explicit != null) {
            return explicit;
        }
        for (Path candidate : DEFAULT_SOCKETS) {
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        return DEFAULT_SOCKETS.get(0);
    }

    Path socket() {
        return socket;
    }

    Instances instances() {
        return instances;
    }

    /** The storage pool of a profile's root disk, if it has one. */
    Optional<String> rootPool(String profile) {
        JsonNode devices = lxd.sync("GET", "/1.0/profiles/" + enc(profile), null).path("devices");
        for (JsonNode d : devices) {
            if ("disk".equals(d.path("type").asText()) && "/".equals(d.path("path").asText())) {
                return Optional.of(d.path("pool").asText());
            }
        }
        return Optional.empty();
    }

    // ---- instances -----------------------------------------------------------------------------

    final class Instances {
        private static String path(String name) {
            return "/1.0/instances/" + enc(name);
        }

        /** The instance's config and devices (no state: LXD gathers that by entering the container). */
        Optional<LxdInstance> find(String name) {
            return lxd.getIfExists(path(name)).map(LxdInstance::of);
        }

        /** The instance with its state (status and addresses) in the same reply. */
        Optional<LxdInstance> findWithState(String name) {
            Optional<LxdInstance> i = lxd.getIfExists(path(name) + "?recursion=1").map(LxdInstance::of);
            // LXD 5 (instance_get_full) and Incus put the state in that reply; older ones need /state.
            return i.map(x -> x.state() != null ? x : x.withState(state(name).orElse(null)));
        }

        Optional<LxdInstance.State> state(String name) {
            return lxd.getIfExists(path(name) + "/state").map(LxdInstance.State::of);
        }

        /** Every instance on this LXD, with its state when {@code withState}. */
        List<LxdInstance> list(boolean withState) {
            List<LxdInstance> out = new ArrayList<>();
            for (JsonNode n : lxd.sync("GET", "/1.0/instances?recursion=" + (withState ? 2 : 1), null)) {
                out.add(LxdInstance.of(n));
            }
            return out;
        }

        /** Creates a container from a local image alias; returns when it exists (stopped). */
        void create(String name, String imageAlias, Map<String, String> config, Map<String, ?> devices) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("type", "container");
            body.put("source", Map.of("type", "image", "alias", imageAlias));
            body.put("config", config);
            body.put("devices", devices);
            synchronized (creating) {
                lxd.run("POST", "/1.0/instances", body);
            }
        }

        /** start, stop, restart; a stop waits {@code timeoutSeconds} for a clean shutdown unless forced. */
        void changeState(String name, String action, boolean force, int timeoutSeconds) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("action", action);
            body.put("timeout", timeoutSeconds);
            body.put("force", force);
            lxd.run("PUT", path(name) + "/state", body);
        }

        /** Merges config keys and devices into the instance (PATCH). */
        void patch(String name, Map<String, String> config, Map<String, ?> devices) {
            Map<String, Object> body = new LinkedHashMap<>();
            if (config != null && !config.isEmpty()) {
                body.put("config", config);
            }
            if (devices != null && !devices.isEmpty()) {
                body.put("devices", devices);
            }
            lxd.sync("PATCH", path(name), body);
        }

        /** Replaces the whole local device set: PATCH merges devices, so removing one needs a PUT. */
        void replaceDevices(String name, Map<String, Map<String, String>> devices) {
            JsonNode full = lxd.sync("GET", path(name), null);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("architecture", full.path("architecture").asText());
            body.put("config", full.path("config"));
            body.put("devices", devices);
            body.put("ephemeral", full.path("ephemeral").asBoolean());
            body.put("profiles", full.path("profiles"));
            body.put("stateful", full.path("stateful").asBoolean());
            body.put("description", full.path("description").asText(""));
            lxd.run("PUT", path(name), body);
        }

        /** Restores a snapshot; LXD stops a running container for it and starts it again. */
        void restore(String name, String snapshot) {
            lxd.run("PUT", path(name), Map.of("restore", snapshot));
        }

        void rename(String name, String newName) {
            lxd.run("POST", path(name), Map.of("name", newName));
        }

        void delete(String name) {
            lxd.run("DELETE", path(name), null);
        }

        /** Creates an instance {@code name} from an exported backup tarball. */
        void importBackup(String name, Path tarball) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-LXD-name", name);
            try (InputStream in = Files.newInputStream(tarball)) {
                lxd.await(lxd.exchange("POST", "/1.0/instances", headers, in, "application/octet-stream"), OP_TIMEOUT);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Runs a command inside a running instance; {@code env} adds variables (data for a constant
         * script, never code). Collects its output only when asked (it costs four requests).
         */
        ExecResult exec(String name, List<String> command, Map<String, String> env, boolean recordOutput,
                        Duration timeout) {
            Map<String, String> environment = new LinkedHashMap<>(env);
            environment.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            environment.put("LANG", "C.UTF-8");
            environment.put("HOME", "/root");
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("command", command);
            body.put("environment", environment);
            body.put("wait-for-websocket", false);
            body.put("interactive", false);
            body.put("record-output", recordOutput);
            JsonNode meta = lxd.await(lxd.exchange("POST", path(name) + "/exec", Map.of(), json(body), "application/json"),
                    timeout).path("metadata");
            return new ExecResult(meta.path("return").asInt(-1), readLog(meta.path("output").path("1").asText(null)),
                    readLog(meta.path("output").path("2").asText(null)));
        }

        /** Writes a file (or makes a directory when content is null) inside an instance. */
        void pushFile(String name, String file, byte[] content, int uid, int gid, String mode) {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("X-LXD-uid", Integer.toString(uid));
            h.put("X-LXD-gid", Integer.toString(gid));
            h.put("X-LXD-mode", mode);
            h.put("X-LXD-type", content == null ? "directory" : "file");
            h.put("X-LXD-write", "overwrite");
            lxd.exchange("POST", path(name) + "/files?path=" + enc(file), h,
                    content == null ? new byte[0] : content, "application/octet-stream");
        }

        Snapshots snapshots(String name) {
            return new Snapshots(path(name) + "/snapshots");
        }

        Backups backups(String name) {
            return new Backups(path(name) + "/backups");
        }
    }

    record ExecResult(int exitCode, String stdout, String stderr) {
    }

    private String readLog(String path) {
        if (path == null) {
            return "";
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        lxd.download(path, buf);
        try {
            lxd.sync("DELETE", path, null);
        } catch (ProtocolException ignored) {
            // The log file is only a leftover; LXD prunes them itself too.
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** The snapshots of one instance. */
    final class Snapshots {
        private final String base;

        private Snapshots(String base) {
            this.base = base;
        }

        /** A stateless snapshot; LXD refuses a taken name (conflict). Returns it as LXD made it. */
        LxdInstance.Snapshot create(String snapshot) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", snapshot);
            body.put("stateful", false);
            JsonNode op = lxd.run("POST", base, body);
            return new LxdInstance.Snapshot(snapshot, op.path("created_at").asText(null), null);
        }

        List<LxdInstance.Snapshot> list() {
            List<LxdInstance.Snapshot> out = new ArrayList<>();
            for (JsonNode n : lxd.sync("GET", base + "?recursion=1", null)) {
                out.add(LxdInstance.Snapshot.of(n));
            }
            return out;
        }

        Optional<LxdInstance.Snapshot> find(String snapshot) {
            return lxd.getIfExists(base + "/" + enc(snapshot)).map(LxdInstance.Snapshot::of);
        }

        void delete(String snapshot) {
            lxd.run("DELETE", base + "/" + enc(snapshot), null);
        }
    }

    /** LXD's own backups (exports) of one instance, which the Worker streams to the host and deletes. */
    final class Backups {
        private final String base;

        private Backups(String base) {
            this.base = base;
        }

        /** An instance-only gzip export, which LXD deletes by itself after {@code expiresAt}. */
        void create(String backup, Instant expiresAt) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", backup);
            body.put("expires_at", expiresAt.toString());
            body.put("instance_only", true);
            body.put("optimized_storage", false);
            body.put("compression_algorithm", "gzip");
            lxd.run("POST", base, body);
        }

        void export(String backup, OutputStream out) {
            lxd.download(base + "/" + enc(backup) + "/export", out);
        }

        void delete(String backup) {
            lxd.run("DELETE", base + "/" + enc(backup), null);
        }
    }

    @Override
    public void close() {
        lxd.close();
    }
}
