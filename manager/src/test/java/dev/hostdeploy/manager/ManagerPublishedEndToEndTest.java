package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Manager published through its own host's Caddy ({@code --publish-on-host} with an https
 * {@code --public-url}): a real Guardian (nft in a namespace) and a real Caddy on loopback, {@code tls
 * internal}; the API is read over HTTPS as a user would, with curl and Caddy's root.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ManagerPublishedEndToEndTest {
    @TempDir
    Path root;
    TestManager m;
    CaddyFixture caddy;
    RealHost realHost;

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        if (realHost != null) {
            realHost.close();
        }
        if (caddy != null) {
            caddy.close();
        }
    }

    @Test
    void theManagersApiAnswersOverHttpsAtItsPublicUrlThroughItsHostsCaddy() throws Exception {
        caddy = new CaddyFixture();
        String host = "hd-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".test";
        m = TestManager.start(root.resolve("manager"), c -> c.domainTls("internal")
                .publicUrl(java.net.URI.create("https://" + host + ":" + caddy.httpsPort)).publishOnHost("lumi"));
        // A Worker with no modules: the host needs one, the test none of its commands.
        realHost = RealHost.builder("hdp").caddy(caddy).start(m, root);
        realHost.add(m);

        String url = "https://" + host + ":" + caddy.httpsPort + "/api/v1/health";
        await(url + " to answer").atMost(Duration.ofSeconds(60)).until(() -> {
            String body = curl("--resolve", host + ":" + caddy.httpsPort + ":127.0.0.1", "--cacert",
                    rootCa(), url);
            return body != null && body.contains("\"status\":\"ok\"");
        });

        JsonNode routes = m.admin("GET", "/ingress", null).json();
        assertThat(routes).hasSize(1);
        assertThat(routes.at("/0/host").asText()).isEqualTo(host);
        assertThat(routes.at("/0/owner").asText()).isEqualTo("manager/api");
        assertThat(routes.at("/0/upstream").asText()).isEqualTo("127.0.0.1:" + m.manager.port());
    }

    private String rootCa() {
        try {
            return caddy.root().toString();
        } catch (Exception e) {
            return "/nonexistent";
        }
    }

    private static String curl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "10"));
        cmd.addAll(List.of(args));
        String out = exec(cmd.toArray(String[]::new));
        return out;
    }

    /** Runs a command; its output, or null when it failed. */
    private static String exec(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (Exception e) {
            return null;
        }
    }
}
