package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The LXD (or Incus) REST API on its unix socket, as typed calls in the manner of Incus's Go client:
 * {@code instances().find(name)}, {@code instances().snapshots(name).create(...)}. Background operations
 * are awaited in one place ({@link #await}) and LXD's errors become protocol errors in one place
 * ({@link #fromLxd}); "absent" is an empty {@code Optional}, never a caught {@code not_found}.
 *
 * <p>HTTP is docker-java's Apache HttpClient 5 transport, already on the Worker's classpath for the
 * deploy commands: given a {@code unix://} address it connects over the socket itself, so no socket
 * factory or connection operator has to be written here (Apache HttpClient 5 alone, or OkHttp, would
 * need one plus junixsocket). Its requests carry any method, headers and a streamed body, which is all
 * LXD needs.
 */
final class LxdClient implements AutoCloseable {
    static final List<Path> DEFAULT_SOCKETS = List.of(
            Path.of("/var/lib/lxd/unix.socket"),
            Path.of("/var/snap/lxd/common/lxd/unix.socket"),
            Path.of("/var/lib/incus/unix.socket"));

    /** How long LXD may stay silent within one request (operations are waited for in shorter slices). */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(120);
    /** How long a background operation (create, start, export, ...) may run. */
    static final Duration OP_TIMEOUT = Duration.ofMinutes(10);
    private static final int MAX_JSON_BODY = 64 * 1024 * 1024;

    private final Path socket;
    private final DockerHttpClient http;
    private final Instances instances = new Instances();
    /**
     * LXD 5.0 picks an isolated container's id range when it creates it, from the ranges the others
     * hold, without a lock of its own: creates at once got the same range (two members' roots as one
     * host uid) or one outside root's (the start then failed in forkstart). One create at a time.
     */
    private final Object creating = new Object();

    LxdClient(Path socket) {
        this.socket = socket;
        URI address;
        try {
            address = new URI("unix", null, socket.toAbsolutePath().toString(), null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--lxd-socket: not a usable path: " + socket, e);
        }
        // Nothing connects here: a Worker without LXD starts and answers lxc.* with unavailable.
        this.http = new ApacheDockerHttpClient.Builder()
                .dockerHost(address)
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(RESPONSE_TIMEOUT)
                .build();
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
        JsonNode devices = sync("GET", "/1.0/profiles/" + enc(profile), null).path("devices");
        for (JsonNode d : devices) {
            if ("disk".equals(d.path("type").asText()) && "/".equals(d.path("path").asText())) {
                return Optional.of(d.path("pool").asText());
            }
        }
        return Optional.empty();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    // ---- instances -----------------------------------------------------------------------------

    final class Instances {
        private static String path(String name) {
            return "/1.0/instances/" + enc(name);
        }

        /** The instance's config and devices (no state: LXD gathers that by entering the container). */
        Optional<LxdInstance> find(String name) {
            return getIfExists(path(name)).map(LxdInstance::of);
        }

        /** The instance with its state (status and addresses) in the same reply. */
        Optional<LxdInstance> findWithState(String name) {
            Optional<LxdInstance> i = getIfExists(path(name) + "?recursion=1").map(LxdInstance::of);
            // LXD 5 (instance_get_full) and Incus put the state in that reply; older ones need /state.
            return i.map(x -> x.state() != null ? x : x.withState(state(name).orElse(null)));
        }

        Optional<LxdInstance.State> state(String name) {
            return getIfExists(path(name) + "/state").map(LxdInstance.State::of);
        }

        /** Every instance on this LXD, with its state when {@code withState}. */
        List<LxdInstance> list(boolean withState) {
            List<LxdInstance> out = new ArrayList<>();
            for (JsonNode n : sync("GET", "/1.0/instances?recursion=" + (withState ? 2 : 1), null)) {
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
                run("POST", "/1.0/instances", body);
            }
        }

        /** start, stop, restart; a stop waits {@code timeoutSeconds} for a clean shutdown unless forced. */
        void changeState(String name, String action, boolean force, int timeoutSeconds) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("action", action);
            body.put("timeout", timeoutSeconds);
            body.put("force", force);
            run("PUT", path(name) + "/state", body);
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
            sync("PATCH", path(name), body);
        }

        /** Replaces the whole local device set: PATCH merges devices, so removing one needs a PUT. */
        void replaceDevices(String name, Map<String, Map<String, String>> devices) {
            JsonNode full = sync("GET", path(name), null);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("architecture", full.path("architecture").asText());
            body.put("config", full.path("config"));
            body.put("devices", devices);
            body.put("ephemeral", full.path("ephemeral").asBoolean());
            body.put("profiles", full.path("profiles"));
            body.put("stateful", full.path("stateful").asBoolean());
            body.put("description", full.path("description").asText(""));
            run("PUT", path(name), body);
        }

        /** Restores a snapshot; LXD stops a running container for it and starts it again. */
        void restore(String name, String snapshot) {
            run("PUT", path(name), Map.of("restore", snapshot));
        }

        void rename(String name, String newName) {
            run("POST", path(name), Map.of("name", newName));
        }

        void delete(String name) {
            run("DELETE", path(name), null);
        }

        /** Creates an instance {@code name} from an exported backup tarball. */
        void importBackup(String name, Path tarball) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-LXD-name", name);
            try (InputStream in = Files.newInputStream(tarball)) {
                await(exchange("POST", "/1.0/instances", headers, in, "application/octet-stream"), OP_TIMEOUT);
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
            JsonNode meta = await(exchange("POST", path(name) + "/exec", Map.of(), json(body), "application/json"),
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
            exchange("POST", path(name) + "/files?path=" + enc(file), h,
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
        download(path, buf);
        try {
            sync("DELETE", path, null);
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
            JsonNode op = run("POST", base, body);
            return new LxdInstance.Snapshot(snapshot, op.path("created_at").asText(null), null);
        }

        List<LxdInstance.Snapshot> list() {
            List<LxdInstance.Snapshot> out = new ArrayList<>();
            for (JsonNode n : sync("GET", base + "?recursion=1", null)) {
                out.add(LxdInstance.Snapshot.of(n));
            }
            return out;
        }

        Optional<LxdInstance.Snapshot> find(String snapshot) {
            return getIfExists(base + "/" + enc(snapshot)).map(LxdInstance.Snapshot::of);
        }

        void delete(String snapshot) {
            run("DELETE", base + "/" + enc(snapshot), null);
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
            run("POST", base, body);
        }

        void export(String backup, OutputStream out) {
            download(base + "/" + enc(backup) + "/export", out);
        }

        void delete(String backup) {
            run("DELETE", base + "/" + enc(backup), null);
        }
    }

    // ---- requests, operations and errors --------------------------------------------------------

    /** A request answered synchronously: its metadata. */
    private JsonNode sync(String method, String path, Object body) {
        return exchange(method, path, Map.of(), body == null ? null : json(body), "application/json").path("metadata");
    }

    /** A request that may start a background operation: the finished operation's metadata. */
    private JsonNode run(String method, String path, Object body) {
        return await(exchange(method, path, Map.of(), body == null ? null : json(body), "application/json"), OP_TIMEOUT);
    }

    /** A GET that answers empty when LXD has nothing at that path. */
    private Optional<JsonNode> getIfExists(String path) {
        try (DockerHttpClient.Response r = execute("GET", path, Map.of(), null, null)) {
            if (r.getStatusCode() == 404) {
                return Optional.empty();
            }
            return Optional.of(check(readJson(r)).path("metadata"));
        }
    }

    /** The one place a background operation is waited for (never polled: LXD's /wait holds the request). */
    private JsonNode await(JsonNode reply, Duration timeout) {
        if (!"async".equals(reply.path("type").asText())) {
            return reply.path("metadata");
        }
        String op = reply.path("operation").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()));
            JsonNode meta = sync("GET", op + "/wait?timeout=" + Math.min(left, 60), null);
            String status = meta.path("status").asText();
            switch (status) {
                case "Success":
                    return meta;
                case "Failure":
                case "Cancelled":
                    throw fromLxd(meta.path("status_code").asInt(400), meta.path("err").asText(status));
                default:
                    if (System.nanoTime() >= deadline) {
                        throw new ProtocolException(ErrorCode.TIMEOUT, "LXD operation '"
                                + meta.path("description").asText("?") + "' did not finish within "
                                + timeout.toSeconds() + " s");
                    }
            }
        }
    }

    /** Streams a raw download (a backup export, an exec log) into {@code out}. */
    private void download(String path, OutputStream out) {
        try (DockerHttpClient.Response r = execute("GET", path, Map.of(), null, null)) {
            if (r.getStatusCode() != 200) {
                check(readJson(r));
                throw new ProtocolException(ErrorCode.INTERNAL, "LXD answered HTTP " + r.getStatusCode() + " for " + path);
            }
            r.getBody().transferTo(out);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** One request with a body of bytes or a stream; its JSON reply, LXD's errors thrown. */
    private JsonNode exchange(String method, String path, Map<String, String> headers, Object body, String type) {
        try (DockerHttpClient.Response r = execute(method, path, headers, body, type)) {
            return check(readJson(r));
        }
    }

    private DockerHttpClient.Response execute(String method, String path, Map<String, String> headers, Object body,
                                              String type) {
        DockerHttpClient.Request.Builder b = DockerHttpClient.Request.builder().method(method).path(path);
        b.putHeader("User-Agent", "hostdeploy-worker");
        headers.forEach((k, v) -> {
            b.putHeader(k, v);
            // Incus renamed LXD's X-LXD-* request headers to X-Incus-*: send both, each server reads its own.
            if (k.startsWith("X-LXD-")) {
                b.putHeader("X-Incus-" + k.substring("X-LXD-".length()), v);
            }
        });
        if (body instanceof byte[] bytes) {
            b.putHeader("Content-Type", type).bodyBytes(bytes);
        } else if (body instanceof InputStream in) {
            b.putHeader("Content-Type", type).body(in);
        }
        try {
            return http.execute(b.build());
        } catch (UncheckedIOException e) {
            throw unreachable(e.getCause());
        } catch (RuntimeException e) {
            if (e.getCause() instanceof IOException io) {
                throw unreachable(io);
            }
            throw e;
        }
    }

    private static byte[] json(Object body) {
        try {
            return Json.MAPPER.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write an LXD request", e);
        }
    }

    private static JsonNode readJson(DockerHttpClient.Response r) {
        try (InputStream in = r.getBody()) {
            byte[] bytes = in.readNBytes(MAX_JSON_BODY + 1);
            if (bytes.length > MAX_JSON_BODY) {
                throw new ProtocolException(ErrorCode.INTERNAL, "LXD reply too large");
            }
            if (bytes.length == 0) {
                return MissingNode.getInstance();
            }
            return Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    private static JsonNode check(JsonNode reply) {
        if (reply.isMissingNode()) {
            throw new ProtocolException(ErrorCode.INTERNAL, "LXD sent an empty reply");
        }
        if ("error".equals(reply.path("type").asText())) {
            throw fromLxd(reply.path("error_code").asInt(500), reply.path("error").asText("unknown error"));
        }
        return reply;
    }

    /** Maps an LXD error to the protocol's codes; the message stays LXD's own, which is clear enough. */
    static ProtocolException fromLxd(int httpCode, String message) {
        String lower = message.toLowerCase(Locale.ROOT);
        ErrorCode code;
        if (httpCode == 404 || lower.contains("not found")) {
            code = ErrorCode.NOT_FOUND;
        } else if (httpCode == 409 || httpCode == 412 || lower.contains("already exists")
                || lower.contains("address already in use")) {
            code = ErrorCode.CONFLICT;
        } else if (httpCode == 400) {
            code = ErrorCode.INVALID_DATA;
        } else if (httpCode == 503) {
            code = ErrorCode.UNAVAILABLE;
        } else {
            code = ErrorCode.INTERNAL;
        }
        return new ProtocolException(code, "LXD: " + message);
    }

    private static ProtocolException unreachable(IOException e) {
        return new ProtocolException(ErrorCode.UNAVAILABLE, "LXD is not reachable: " + e.getMessage());
    }

    @Override
    public void close() {
        try {
            http.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }
}
