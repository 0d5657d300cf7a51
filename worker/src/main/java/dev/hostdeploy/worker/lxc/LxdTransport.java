package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * HTTP to the LXD (or Incus) socket, apart from what the calls mean, so that {@link LxdClient} is only
 * the typed calls: requests with JSON or streamed bodies, the one place a background operation is
 * awaited ({@link #await}) and the one place LXD's errors become protocol errors ({@link #fromLxd}).
 *
 * <p>HTTP is docker-java's Apache HttpClient 5 transport, already on the Worker's classpath for the
 * deploy commands: given a {@code unix://} address it connects over the socket itself, so no socket
 * factory or connection operator has to be written here (Apache HttpClient 5 alone, or OkHttp, would
 * need one plus junixsocket). Its requests carry any method, headers and a streamed body, which is all
 * LXD needs.
 */
final class LxdTransport implements AutoCloseable {
    /** How long LXD may stay silent within one request (operations are waited for in shorter slices). */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(120);
    /** How long a background operation (create, start, export, ...) may run. */
    static final Duration OP_TIMEOUT = Duration.ofMinutes(10);
    private static final int MAX_JSON_BODY = 64 * 1024 * 1024;

    private final DockerHttpClient http;

    LxdTransport(Path socket) {
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

    /** A path segment, percent-encoded. */
    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A request answered synchronously: its metadata. */
    JsonNode sync(String method, String path, Object body) {
        return exchange(method, path, Map.of(), body == null ? null : json(body), "application/json").path("metadata");
    }

    /** A request that may start a background operation: the finished operation's metadata. */
    JsonNode run(String method, String path, Object body) {
        return await(exchange(method, path, Map.of(), body == null ? null : json(body), "application/json"), OP_TIMEOUT);
    }

    /** A GET that answers empty when LXD has nothing at that path. */
    Optional<JsonNode> getIfExists(String path) {
        try (DockerHttpClient.Response r = execute("GET", path, Map.of(), null, null)) {
            if (r.getStatusCode() == 404) {
                return Optional.empty();
            }
            return Optional.of(check(readJson(r)).path("metadata"));
        }
    }

    /** The one place a background operation is waited for (never polled: LXD's /wait holds the request). */
    JsonNode await(JsonNode reply, Duration timeout) {
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
    void download(String path, OutputStream out) {
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
    JsonNode exchange(String method, String path, Map<String, String> headers, Object body, String type) {
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

    static byte[] json(Object body) {
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
