package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.protocol.cli.Cli;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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
    String ns;
    CaddyFixture caddy;
    GuardianAgent guardian;
    AgentServer worker;

    @AfterEach
    void stop() throws Exception {
        if (m != null) {
            m.close();
        }
        if (worker != null) {
            worker.close();
        }
        if (guardian != null) {
            guardian.close();
        }
        if (caddy != null) {
            caddy.close();
        }
        if (ns != null) {
            exec("ip", "netns", "del", ns);
        }
    }

    @Test
    void theManagersApiAnswersOverHttpsAtItsPublicUrlThroughItsHostsCaddy() throws Exception {
        caddy = new CaddyFixture();
        String host = "hd-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".test";
        m = TestManager.start(root.resolve("manager"), c -> c.domainTls("internal")
                .publicUrl(java.net.URI.create("https://" + host + ":" + caddy.httpsPort)).publishOnHost("lumi"));
        TrustPolicy manager = TrustPolicy.exactly(List.of(m.manager.identity().fingerprint()));
        ns = "hdp" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        exec("ip", "netns", "add", ns);
        exec("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        Identity guardianKey = Identity.generate("guardian");
        guardian = GuardianAgent.builder(guardianKey, manager, root.resolve("guardian-state"))
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft"))
                .caddyAdmin(caddy.admin()).httpPort(caddy.httpPort).httpsPort(caddy.httpsPort)
                .build();
        guardian.start();
        Identity workerKey = Identity.generate("worker");
        worker = AgentServer.builder(workerKey, manager, new HandlerRegistry())
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version(Cli.version()).build();
        worker.start();

        var r = m.admin("POST", "/hosts", Map.of("name", "lumi",
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", workerKey.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardian.port(), "fingerprint", guardianKey.fingerprint())));
        assertThat(r.status()).as(r.body()).isEqualTo(201);

        String url = "https://" + host + ":" + caddy.httpsPort + "/api/v1/health";
        CaddyFixture.await(url + " to answer", () -> {
            String body = curl("--resolve", host + ":" + caddy.httpsPort + ":127.0.0.1", "--cacert",
                    rootCa(), url);
            return body != null && body.contains("\"status\":\"ok\"");
        }, Duration.ofSeconds(60));

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
