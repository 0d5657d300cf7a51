package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.Optional;
import dev.hostdeploy.manager.http.FailedAuthLimiter;
import dev.hostdeploy.manager.http.Health;
import dev.hostdeploy.manager.http.HttpApi;
import dev.hostdeploy.manager.http.Metrics;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bodies are JSON, strictly bound, and bounded however they are sent; odd paths keep the error shape. */
@Timeout(60)
class StrictRequestsTest {
    @TempDir
    static Path root;
    static TestManager m;

    @BeforeAll
    static void start() throws Exception {
        m = TestManager.start(root);
    }

    @AfterAll
    static void stop() {
        m.close();
    }

    private TestManager.Response postRaw(String path, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(m.url(path))).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + m.adminToken).POST(BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return TestManager.send(b);
    }

    @Test
    void aNumberWhereTheNameShouldBeIsRefusedNamingTheField() {
        var r = m.admin("POST", "/users", "{\"name\": 123}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().at("/error/details/field").asText()).isEqualTo("name");
        assertThat(m.admin("GET", "/users", null).body()).doesNotContain("\"123\"");
        var bool = m.admin("POST", "/users", "{\"name\": \"ok-bool\", \"role\": true}");
        assertThat(bool.status()).isEqualTo(400);
        assertThat(bool.json().at("/error/details/field").asText()).isEqualTo("role");
    }

    @Test
    void trailingGarbageAfterTheBodyIsRefused() {
        var r = m.admin("POST", "/users", "{\"name\": \"trailer\"} {\"name\": \"second\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().at("/error/code").asText()).isEqualTo("bad_request");
        var garbage = m.admin("POST", "/users", "{\"name\": \"trailer\"} xyz");
        assertThat(garbage.status()).isEqualTo(400);
        assertThat(m.admin("GET", "/users", null).body()).doesNotContain("trailer");
    }

    @Test
    void aBodyThatIsNotDeclaredJsonGets415InTheErrorShape() {
        var plain = postRaw("/users", "text/plain", "{\"name\": \"plain\"}");
        assertThat(plain.status()).as(plain.body()).isEqualTo(415);
        assertThat(plain.json().at("/error/code").asText()).isEqualTo("unsupported_media_type");
        var form = postRaw("/users", "application/x-www-form-urlencoded", "name=formed");
        assertThat(form.status()).isEqualTo(415);
        var none = postRaw("/users", null, "{\"name\": \"undeclared\"}");
        assertThat(none.status()).isEqualTo(415);
        var withCharset = postRaw("/users", "application/json; charset=utf-8", "{\"name\": \"charset\"}");
        assertThat(withCharset.status()).as(withCharset.body()).isEqualTo(201);
        assertThat(m.admin("GET", "/users", null).body()).doesNotContain("plain", "formed", "undeclared");
    }

    @Test
    void aRouteThatAcceptsFormsTakesAFormBodyAndStillRefusesOtherTypes() throws Exception {
        RouteGroup webhook = () -> List.of(Route.post(Route.API + "/hook").open().acceptsForm()
                .doc("hook", "A form-posting webhook").audit("hook.receive")
                .handle(ctx -> ctx.result(String.valueOf(ctx.formParam("payload")))));
        ServerSocketChannel socket = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        try (Health health = new Health(m.manager.store().database(), m.manager.agents());
             Metrics metrics = new Metrics()) {
            HttpApi api = new HttpApi(t -> Optional.empty(), FailedAuthLimiter.defaults(), null, health, metrics,
                    m.manager.store().audit(), "test", List.of(webhook), socket);
            api.start();
            try {
                String url = "http://127.0.0.1:" + api.port() + Route.API + "/hook";
                var form = TestManager.send(HttpRequest.newBuilder(URI.create(url))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(BodyPublishers.ofString("payload=%7B%7D")));
                assertThat(form.status()).isEqualTo(200);
                assertThat(form.body()).isEqualTo("{}");
                var json = TestManager.send(HttpRequest.newBuilder(URI.create(url))
                        .header("Content-Type", "application/json").POST(BodyPublishers.ofString("{}")));
                assertThat(json.status()).isEqualTo(200);
                var plain = TestManager.send(HttpRequest.newBuilder(URI.create(url))
                        .header("Content-Type", "text/plain").POST(BodyPublishers.ofString("payload")));
                assertThat(plain.status()).isEqualTo(415);
                assertThat(plain.json().at("/error/message").asText()).contains("x-www-form-urlencoded");
            } finally {
                api.close();
            }
        }
    }

    @Test
    void aPathWithANulByteGetsTheJsonErrorShape() {
        var r = TestManager.send(HttpRequest.newBuilder(URI.create(m.url("/users/a%00b")))
                .header("Authorization", "Bearer " + m.adminToken));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.raw().headers().firstValue("Content-Type").orElse("")).contains("application/json");
        assertThat(r.json().at("/error/code").asText()).isEqualTo("bad_request");
        assertThat(r.body()).doesNotContain("<html");
    }

    @Test
    void aDeclaredBodyOverTheLimitGets413InTheErrorShape() {
        char[] name = new char[2_000_000];
        Arrays.fill(name, 'a');
        var r = m.admin("POST", "/users", "{\"name\": \"" + new String(name) + "\"}");
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().at("/error/code").asText()).isEqualTo("payload_too_large");
    }

    @Test
    void aChunkedBodyOverTheLimitGets413WithoutBeingReadInFull() {
        long total = 64L << 20;
        AtomicLong sent = new AtomicLong();
        // Unknown length: HttpClient sends it chunked, so only reading can find it too large.
        InputStream body = new InputStream() {
            private final byte[] prefix = "{\"name\": \"".getBytes();

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                long at = sent.get();
                if (at >= total) {
                    return -1;
                }
                int n = (int) Math.min(len, total - at);
                for (int i = 0; i < n; i++) {
                    b[off + i] = at + i < prefix.length ? prefix[(int) (at + i)] : (byte) 'a';
                }
                sent.addAndGet(n);
                return n;
            }
        };
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(m.url("/users"))).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + m.adminToken).header("Content-Type", "application/json")
                .POST(BodyPublishers.ofInputStream(() -> body));
        long start = System.nanoTime();
        var r = TestManager.send(request);
        assertThat(r.status()).as(r.body()).isEqualTo(413);
        assertThat(r.json().at("/error/code").asText()).isEqualTo("payload_too_large");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(r.raw().headers().firstValue("Connection")).hasValue("close");
        assertThat(m.get("/health", null).status()).isEqualTo(200);
    }

    @Test
    void theManagerAnswers413InTheMiddleOfAChunkedBodyInsteadOfWaitingForItsEnd() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", m.manager.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m.adminToken
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) ' ');
            // 1.5 MB of chunks and no final chunk: only a Manager that counts while reading can answer.
            for (int i = 0; i < 24; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("HTTP/1.1 413 Payload Too Large");
            StringBuilder rest = new StringBuilder();
            for (String line = in.readLine(); line != null && rest.length() < 10_000; line = in.readLine()) {
                rest.append(line).append('\n');
                if (line.contains("payload_too_large")) {
                    break;
                }
            }
            assertThat(rest.toString()).containsIgnoringCase("connection: close").contains("\"payload_too_large\"");
        }
    }
}
