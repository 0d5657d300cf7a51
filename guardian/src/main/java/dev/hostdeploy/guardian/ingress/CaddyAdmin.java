package dev.hostdeploy.guardian.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * Caddy's admin API: {@code POST /load} of a whole config, {@code GET /config/}, {@code GET /pki/ca/local},
 * over TCP (loopback) or a unix socket (Caddy's {@code unix//path} admin address). Each call is one
 * HTTP/1.0 request on its own connection: Go's server then answers without chunking and closes.
 * java.net.http is not used because Caddy ends {@code GET /config/}'s chunked body with an ETag
 * trailer, which the JDK 17 client refuses ("CR expected").
 */
public final class CaddyAdmin {
    /** Caddy answered, but not 2xx: for a load, the config was refused. */
    public static final class CaddyException extends IOException {
        private final int status;

        CaddyException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final String address;
    private final Path socket;
    private final Duration timeout;

    /** {@code HOST:PORT} or a unix socket path (starting with '/'). */
    public CaddyAdmin(String address, Duration timeout) {
        this.address = address;
        this.timeout = timeout;
        if (address.startsWith("/")) {
            this.socket = Path.of(address);
        } else {
            if (!address.matches("[A-Za-z0-9.\\-]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}")) {
                throw new IllegalArgumentException("--caddy-admin '" + address + "': use HOST:PORT or /path/to/socket");
            }
            this.socket = null;
        }
    }

    /** The address as Caddy's own config writes it ({@code admin.listen}), so a load keeps the API where it is. */
    public String listen() {
        return socket != null ? "unix/" + socket : address;
    }

    public String address() {
        return address;
    }

    /** Replaces Caddy's whole config; Caddy applies it atomically or keeps the old one. */
    public void load(JsonNode config) throws IOException {
        send("POST", "/load", Json.MAPPER.writeValueAsBytes(config));
    }

    public JsonNode config() throws IOException {
        byte[] body = send("GET", "/config/", null);
        return Json.MAPPER.readTree(body.length == 0 ? "null".getBytes(StandardCharsets.UTF_8) : body);
    }

    /** The local CA's root certificate (PEM): what clients trust for {@code tls internal} routes. */
    public String localRoot() throws IOException {
        return Json.MAPPER.readTree(send("GET", "/pki/ca/local", null)).path("root_certificate").asText();
    }

    private byte[] send(String method, String path, byte[] body) throws IOException {
        // Caddy checks the Host of admin requests against its listen address; on a unix socket it takes an empty one.
        String head = method + " " + path + " HTTP/1.0\r\nHost: " + (socket != null ? "" : address) + "\r\n"
                + (body != null ? "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n" : "")
                + "\r\n";
        byte[] all;
        if (socket != null) {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                write(ch, head.getBytes(StandardCharsets.US_ASCII));
                if (body != null) {
                    write(ch, body);
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteBuffer buf = ByteBuffer.allocate(16384);
                while (ch.read(buf) >= 0) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                all = out.toByteArray();
            }
        } else {
            int colon = address.lastIndexOf(':');
            String host = address.substring(0, colon).replace("[", "").replace("]", "");
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1))),
                        (int) timeout.toMillis());
                s.setSoTimeout((int) timeout.toMillis());
                OutputStream o = s.getOutputStream();
                o.write(head.getBytes(StandardCharsets.US_ASCII));
                if (body != null) {
                    o.write(body);
                }
                o.flush();
                all = s.getInputStream().readAllBytes();
            }
        }
        int split = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (split < 0) {
            throw new IOException("Caddy's admin API at " + address + " gave no HTTP answer");
        }
        String status = new String(all, 0, split, StandardCharsets.US_ASCII).split("\r\n", 2)[0];
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[1].matches("[0-9]{3}")) {
            throw new IOException("Caddy's admin API at " + address + " gave a bad status line: " + status);
        }
        return check(Integer.parseInt(parts[1]), Arrays.copyOfRange(all, split + 4, all.length), method, path);
    }

    private byte[] check(int status, byte[] body, String method, String path) throws CaddyException {
        if (status / 100 != 2) {
            String text = new String(body, StandardCharsets.UTF_8);
            try {
                JsonNode e = Json.MAPPER.readTree(text);
                if (e != null && e.hasNonNull("error")) {
                    text = e.get("error").asText();
                }
            } catch (IOException ignored) {
                // not JSON: keep the text
            }
            throw new CaddyException(status, "Caddy answered " + status + " to " + method + " " + path + ": " + text.strip());
        }
        return body;
    }

    private static void write(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static int indexOf(byte[] a, byte[] pat) {
        outer:
        for (int i = 0; i + pat.length <= a.length; i++) {
            for (int j = 0; j < pat.length; j++) {
                if (a[i + j] != pat[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
