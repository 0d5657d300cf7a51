package dev.hostdeploy.guardian.ingress;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real Caddy ({@code /usr/bin/caddy run}) of its own: admin API on a free loopback port, data and
 * autosave in a temp directory (so its local CA is its own and nothing is installed in the host's
 * trust store), HTTP and HTTPS ports free high ports for the Guardian to use. Starts with an empty
 * config, as a freshly (re)started system Caddy would. Also the test's HTTPS client: curl with
 * {@code --resolve} and Caddy's local root, as a user would check a route.
 */
public final class CaddyFixture implements AutoCloseable {
    public final Path dir;
    public final int adminPort = freePort();
    public final int httpPort = freePort();
    public final int httpsPort = freePort();
    private final boolean unixSocket;
    private Process process;

    public CaddyFixture() throws Exception {
        this(false);
    }

    /** With {@code unixSocket}, the admin API listens on {@code DIR/admin.sock} instead of a loopback port. */
    public CaddyFixture(boolean unixSocket) throws Exception {
        this.unixSocket = unixSocket;
        dir = Files.createTempDirectory("hd-caddy");
        Files.writeString(dir.resolve("caddy.json"), "{\"admin\":{\"listen\":\""
                + (unixSocket ? "unix/" : "") + admin() + "\"}}");
        start();
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The {@code --caddy-admin} value. */
    public String admin() {
        return unixSocket ? dir.resolve("admin.sock").toString() : "127.0.0.1:" + adminPort;
    }

    public void start() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("caddy", "run", "--config", dir.resolve("caddy.json").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("caddy.log").toFile());
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("XDG_DATA_HOME", dir.resolve("data").toString());
        pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        process = pb.start();
        CaddyAdmin a = new CaddyAdmin(admin(), Duration.ofSeconds(2));
        try {
            await("Caddy's admin API to answer").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        try {
                            a.config();
                            return true;
                        } catch (IOException e) {
                            return false;
                        }
                    });
        } catch (ConditionTimeoutException e) {
            stop(); // nobody closes a fixture whose constructor failed
            throw new AssertionError(e.getMessage() + "; Caddy's log: " + log(), e);
        }
    }

    /** Stops Caddy and starts it again from its config file: every route loaded over the API is gone. */
    public void restart() throws Exception {
        stop();
        start();
    }

    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Caddy's local root (PEM) written to a file, for curl's --cacert. */
    public Path root() throws IOException {
        Path f = dir.resolve("root.pem");
        Files.writeString(f, new CaddyAdmin(admin(), Duration.ofSeconds(5)).localRoot());
        return f;
    }

    /** {@code curl --resolve host:PORT:127.0.0.1 --cacert ROOT https://host:PORT/}: the body, or null on any failure. */
    public String https(String host) throws Exception {
        return curl(List.of("--resolve", host + ":" + httpsPort + ":127.0.0.1", "--cacert", root().toString(),
                "https://" + host + ":" + httpsPort + "/"));
    }

    public String http(String host) throws Exception {
        return curl(List.of("--resolve", host + ":" + httpPort + ":127.0.0.1", "http://" + host + ":" + httpPort + "/"));
    }

    private static String curl(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "10"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 ? out : null;
    }

    /** Waits until the HTTPS answer for {@code host} is {@code body} (certificate issuance takes a moment). */
    public void awaitHttps(String host, String body, Duration timeout) throws Exception {
        await("https://" + host + " to answer " + body).atMost(timeout).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    try {
                        return body.equals(https(host));
                    } catch (Exception e) {
                        return false;
                    }
                });
    }

    public String log() throws IOException {
        return Files.readString(dir.resolve("caddy.log"));
    }

    @Override
    public void close() throws Exception {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
