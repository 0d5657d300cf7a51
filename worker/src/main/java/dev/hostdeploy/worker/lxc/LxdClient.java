package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A small client for the LXD (or Incus) REST API on its unix socket: hand-written HTTP/1.1, one
 * connection per request (the socket is local, so connecting is cheap and no pooling is needed).
 * Only what the lxc.* commands use.
 */
final class LxdClient implements AutoCloseable {
    static final List<Path> DEFAULT_SOCKETS = List.of(
            Path.of("/var/lib/lxd/unix.socket"),
            Path.of("/var/snap/lxd/common/lxd/unix.socket"),
            Path.of("/var/lib/incus/unix.socket"));

    /** How long a plain request may take before the connection is cut. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);
    /** Streams (backup export and import) may run much longer. */
    private static final Duration TRANSFER_TIMEOUT = Duration.ofHours(2);
    private static final int MAX_HEADER_LINE = 16 * 1024;
    private static final long MAX_JSON_BODY = 64L * 1024 * 1024;

    private final Path socket;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lxd-client-watchdog");
        t.setDaemon(true);
        return t;
    });

    LxdClient(Path socket) {
        this.socket = socket;
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

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    // ---- high-level calls --------------------------------------------------------------------

    /** A request whose reply is sync: returns its metadata. */
    JsonNode sync(String method, String path, Object body) {
        return handle(json(method, path, body, Map.of())).path("metadata");
    }

    JsonNode get(String path) {
        return sync("GET", path, null);
    }

    /**
     * A request that may start a background operation: waits for it and returns the finished
     * operation's metadata (or the sync reply's metadata).
     */
    JsonNode run(String method, String path, Object body, Duration timeout) {
        JsonNode reply = handle(json(method, path, body, Map.of()));
        return finish(reply, timeout);
    }

    /** Streams a raw download (a backup export) into {@code out}. */
    void download(String path, OutputStream out) {
        try (Exchange ex = open(TRANSFER_TIMEOUT)) {
            ex.writeHead("GET", path, Map.of(), 0);
            ex.flush();
            Response r = ex.readHead();
            if (r.status != 200) {
                handle(ex.readJson(r));
                throw new ProtocolException(ErrorCode.INTERNAL, "LXD answered HTTP " + r.status + " for " + path);
            }
            ex.copyBody(r, out);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** Uploads a raw body (a backup import) and waits for the operation it starts. */
    JsonNode upload(String path, Map<String, String> headers, Path file, Duration timeout) {
        JsonNode reply;
        try (Exchange ex = open(TRANSFER_TIMEOUT); InputStream in = Files.newInputStream(file)) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put("Content-Type", "application/octet-stream");
            incusToo(h);
            ex.writeHead("POST", path, h, Files.size(file));
            in.transferTo(ex.out);
            ex.flush();
            reply = ex.readJson(ex.readHead());
        } catch (IOException e) {
            throw unreachable(e);
        }
        return finish(handle(reply), timeout);
    }

    /** Writes a file (or makes a directory when content is null) inside an instance. */
    void pushFile(String instance, String path, byte[] content, int uid, int gid, String mode) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("X-LXD-uid", Integer.toString(uid));
        h.put("X-LXD-gid", Integer.toString(gid));
        h.put("X-LXD-mode", mode);
        h.put("X-LXD-type", content == null ? "directory" : "file");
        h.put("X-LXD-write", "overwrite");
        incusToo(h);
        h.put("Content-Type", "application/octet-stream");
        String p = "/1.0/instances/" + enc(instance) + "/files?path=" + enc(path);
        try (Exchange ex = open(REQUEST_TIMEOUT)) {
            byte[] body = content == null ? new byte[0] : content;
            ex.writeHead("POST", p, h, body.length);
            ex.out.write(body);
            ex.flush();
            handle(ex.readJson(ex.readHead()));
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** Incus renamed LXD's X-LXD-* request headers to X-Incus-*: send both, each server reads its own. */
    private static void incusToo(Map<String, String> headers) {
        for (Map.Entry<String, String> e : List.copyOf(headers.entrySet())) {
            if (e.getKey().startsWith("X-LXD-")) {
                headers.put("X-Incus-" + e.getKey().substring("X-LXD-".length()), e.getValue());
            }
        }
    }

    /** Reads a small raw body (exec output logs). */
    String getText(String path) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        download(path, buf);
        return buf.toString(StandardCharsets.UTF_8);
    }

    /**
     * Runs a command inside a running instance; {@code env} adds variables (data for a constant
     * script, never code). Collects its output only when asked (it costs four requests).
     */
    ExecResult exec(String instance, List<String> command, Map<String, String> env, boolean recordOutput,
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
        JsonNode op = run("POST", "/1.0/instances/" + enc(instance) + "/exec", body, timeout);
        JsonNode meta = op.path("metadata");
        int code = meta.path("return").asInt(-1);
        String out = readLog(meta.path("output").path("1").asText(null));
        String err = readLog(meta.path("output").path("2").asText(null));
        return new ExecResult(code, out, err);
    }

    private String readLog(String path) {
        if (path == null) {
            return "";
        }
        String text = getText(path);
        try {
            sync("DELETE", path, null);
        } catch (ProtocolException ignored) {
            // The log file is only a leftover; LXD prunes them itself too.
        }
        return text;
    }

    record ExecResult(int exitCode, String stdout, String stderr) {
    }

    // ---- replies and operations ----------------------------------------------------------------

    private JsonNode finish(JsonNode reply, Duration timeout) {
        if (!"async".equals(reply.path("type").asText())) {
            return reply.path("metadata");
        }
        String op = reply.path("operation").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()));
            JsonNode meta = get(op + "/wait?timeout=" + Math.min(left, 60));
            String status = meta.path("status").asText();
            switch (status) {
                case "Success":
                    return meta;
                case "Failure":
                case "Cancelled":
                    throw fromLxd(meta.path("status_code").asInt(400), meta.path("err").asText(status));
                default:
                    if (System.nanoTime() >= deadline) {
                        throw new ProtocolException(ErrorCode.TIMEOUT,
                                "LXD operation '" + meta.path("description").asText("?") + "' did not finish within "
                                        + timeout.toSeconds() + " s");
                    }
            }
        }
    }

    private static JsonNode handle(JsonNode reply) {
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

    private JsonNode json(String method, String path, Object body, Map<String, String> headers) {
        try (Exchange ex = open(REQUEST_TIMEOUT)) {
            byte[] bytes = body == null ? null : Json.MAPPER.writeValueAsBytes(body);
            Map<String, String> h = new LinkedHashMap<>(headers);
            if (bytes != null) {
                h.put("Content-Type", "application/json");
            }
            ex.writeHead(method, path, h, bytes == null ? -1 : bytes.length);
            if (bytes != null) {
                ex.out.write(bytes);
            }
            ex.flush();
            return ex.readJson(ex.readHead());
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    // ---- HTTP/1.1 over the unix socket -------------------------------------------------------

    private Exchange open(Duration timeout) throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        // Blocking channels have no read timeout: a watchdog closes a request that hangs.
        ScheduledFuture<?> kill = watchdog.schedule(() -> {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing is best effort
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        return new Exchange(ch, kill);
    }

    private static final class Response {
        int status;
        long contentLength = -1;
        boolean chunked;
    }

    private static final class Exchange implements AutoCloseable {
        private final SocketChannel ch;
        private final ScheduledFuture<?> kill;
        final OutputStream out;
        private final InputStream in;

        Exchange(SocketChannel ch, ScheduledFuture<?> kill) {
            this.ch = ch;
            this.kill = kill;
            this.out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 64 * 1024);
            this.in = new BufferedInputStream(Channels.newInputStream(ch), 64 * 1024);
        }

        void writeHead(String method, String path, Map<String, String> headers, long length) throws IOException {
            StringBuilder sb = new StringBuilder();
            sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
            sb.append("Host: lxd\r\nUser-Agent: hostdeploy-worker\r\nConnection: close\r\n");
            for (Map.Entry<String, String> h : headers.entrySet()) {
                sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
            }
            if (length >= 0) {
                sb.append("Content-Length: ").append(length).append("\r\n");
            }
            sb.append("\r\n");
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }

        void flush() throws IOException {
            out.flush();
        }

        Response readHead() throws IOException {
            String statusLine = readLine();
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP reply: " + statusLine);
            }
            Response r = new Response();
            try {
                r.status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("bad HTTP status: " + statusLine);
            }
            String line;
            while (!(line = readLine()).isEmpty()) {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                if (name.equals("content-length")) {
                    r.contentLength = Long.parseLong(value);
                } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                    r.chunked = true;
                }
            }
            return r;
        }

        JsonNode readJson(Response r) throws IOException {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            copyBody(r, new LimitedStream(buf, MAX_JSON_BODY));
            if (buf.size() == 0) {
                throw new IOException("empty reply (HTTP " + r.status + ")");
            }
            return Json.MAPPER.readTree(buf.toByteArray());
        }

        void copyBody(Response r, OutputStream sink) throws IOException {
            if (r.chunked) {
                while (true) {
                    String sizeLine = readLine();
                    int semi = sizeLine.indexOf(';');
                    long size = Long.parseLong((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
                    if (size == 0) {
                        while (!readLine().isEmpty()) {
                            // trailers are not used
                        }
                        return;
                    }
                    copyExactly(size, sink);
                    readLine();
                }
            } else if (r.contentLength >= 0) {
                copyExactly(r.contentLength, sink);
            } else {
                in.transferTo(sink);
            }
        }

        private void copyExactly(long n, OutputStream sink) throws IOException {
            byte[] buf = new byte[64 * 1024];
            while (n > 0) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, n));
                if (k < 0) {
                    throw new EOFException("LXD closed the connection mid-reply");
                }
                sink.write(buf, 0, k);
                n -= k;
            }
        }

        private String readLine() throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    int len = sb.length();
                    if (len > 0 && sb.charAt(len - 1) == '\r') {
                        sb.setLength(len - 1);
                    }
                    return sb.toString();
                }
                if (sb.length() >= MAX_HEADER_LINE) {
                    throw new IOException("HTTP header line too long");
                }
                sb.append((char) c);
            }
            throw new EOFException("LXD closed the connection");
        }

        @Override
        public void close() {
            kill.cancel(false);
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private static final class LimitedStream extends OutputStream {
        private final OutputStream out;
        private long left;

        LimitedStream(OutputStream out, long limit) {
            this.out = out;
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            left -= len;
            if (left < 0) {
                throw new IOException("LXD reply too large");
            }
            out.write(b, off, len);
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
    }
}
