package dev.hostdeploy.guardian;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.hostdeploy.guardian.ingress.CaddyFixture;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The Guardian driving a real Caddy on loopback ({@code tls internal}), its firewall in a test namespace. */
@Timeout(180)
class IngressTest {
    @TempDir
    Path state;
    NetNs ns;
    String host;
    CaddyFixture caddy;
    HttpServer upstream;
    GuardianFixture g;

    @BeforeEach
    void start() throws Exception {
        ns = new NetNs();
        host = ns.create("h");
        caddy = new CaddyFixture();
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.createContext("/", x -> {
            byte[] b = "hello from upstream".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        upstream.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (g != null) {
            g.close();
        }
        upstream.stop(0);
        caddy.close();
        ns.close();
    }

    private GuardianFixture guardian() throws Exception {
        return new GuardianFixture(ns.nft(host), state, b -> b.caddyAdmin(caddy.admin()).httpPort(caddy.httpPort)
                .httpsPort(caddy.httpsPort).checkInterval(Duration.ofSeconds(1)));
    }

    private String route(String hostname, String tls) {
        return "{\"host\":\"" + hostname + "\",\"upstream\":\"127.0.0.1:" + upstream.getAddress().getPort()
                + "\",\"owner\":\"deployment/web\",\"tls\":\"" + tls + "\"}";
    }

    private String openings() throws Exception {
        return g.call("firewall.list", "{}").path("rules").toString();
    }

    @Test
    void aRouteAnswersOverHttpsWithTheUpstreamsContentWhileTheFrontPortsAreOpen() throws Exception {
        g = guardian();
        assertThat(openings()).doesNotContain("ingress/caddy");

        JsonNode set = g.call("ingress.set", route("App.Test", "internal"));
        assertThat(set.path("route").path("host").asText()).isEqualTo("app.test");
        assertThat(set.path("changed").asBoolean()).isTrue();
        assertThat(set.path("applied").asBoolean()).isTrue();
        caddy.awaitHttps("app.test", "hello from upstream", Duration.ofSeconds(30));
        assertThat(openings()).contains("\"port\":" + caddy.httpPort, "\"port\":" + caddy.httpsPort, "ingress/caddy");
        assertThat(ns.exec(host, "nft", "list", "set", "inet", "hostdeploy", "open_ports"))
                .contains("tcp . " + caddy.httpsPort);

        JsonNode status = g.call("ingress.status", "{}");
        assertThat(status.path("caddyReachable").asBoolean()).isTrue();
        assertThat(status.path("inSync").asBoolean()).as(status.toString()).isTrue();
        JsonNode r = status.path("routes").path(0);
        assertThat(r.path("route").path("owner").asText()).isEqualTo("deployment/web");
        assertThat(r.path("certificateIssuer").asText()).contains("Caddy Local Authority");
        assertThat(Instant.parse(r.path("certificateNotAfter").asText())).isAfter(Instant.now());

        // a route with tls off answers plain HTTP on the HTTP port
        g.call("ingress.set", route("plain.test", "off").replace("deployment/web", "deployment/other"));
        await("plain HTTP").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            try {
                return "hello from upstream".equals(caddy.http("plain.test"));
            } catch (Exception e) {
                return false;
            }
        });

        assertThat(g.call("ingress.remove", "{\"owner\":\"deployment/web\"}").path("removed").asInt()).isEqualTo(1);
        assertThat(caddy.https("app.test")).isNull();
        assertThat(openings()).contains("ingress/caddy");
        assertThat(g.call("ingress.remove", "{\"host\":\"plain.test\"}").path("removed").asInt()).isEqualTo(1);
        assertThat(openings()).doesNotContain("ingress/caddy");
        assertThat(g.call("ingress.list", "{}").path("routes")).isEmpty();
    }

    @Test
    void aRestartedCaddyGetsItsRoutesBackFromTheGuardianAndSoDoesARestartedGuardian() throws Exception {
        g = guardian();
        g.call("ingress.set", route("app.test", "internal"));
        caddy.awaitHttps("app.test", "hello from upstream", Duration.ofSeconds(30));

        caddy.restart(); // back with its config file: no routes
        // the periodic check (every second here) loads them again
        caddy.awaitHttps("app.test", "hello from upstream", Duration.ofSeconds(30));
        assertThat(g.call("ingress.status", "{}").path("lastRepair").asText()).contains("Caddy");

        g.close();
        g = null;
        caddy.restart();
        g = guardian(); // the routes come back from the journal
        assertThat(g.call("ingress.list", "{}").path("routes").path(0).path("host").asText()).isEqualTo("app.test");
        caddy.awaitHttps("app.test", "hello from upstream", Duration.ofSeconds(30));
    }

    @Test
    void aHostnameWithASpaceOrAWildcardOrAnUpstreamOutsideLoopbackIsInvalidData() throws Exception {
        g = guardian();
        AgentCallException e = g.error("ingress.set", route("app test.org", "internal"));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(e.error().field()).isEqualTo("host");
        e = g.error("ingress.set", route("*.example.org", "internal"));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(e.getMessage()).contains("wildcard");
        e = g.error("ingress.set", route("app.test", "internal").replace("127.0.0.1", "203.0.113.5"));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(e.error().field()).isEqualTo("upstream");
        // another owner cannot take a routed hostname
        g.call("ingress.set", route("app.test", "internal"));
        e = g.error("ingress.set", route("app.test", "internal").replace("deployment/web", "deployment/thief"));
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(g.call("ingress.list", "{}").path("routes")).hasSize(1);
    }

    @Test
    void caddysAdminApiIsReachedOverAUnixSocketToo() throws Exception {
        try (CaddyFixture onSocket = new CaddyFixture(true)) {
            g = new GuardianFixture(ns.nft(host), state, b -> b.caddyAdmin(onSocket.admin())
                    .httpPort(onSocket.httpPort).httpsPort(onSocket.httpsPort));
            assertThat(g.call("ingress.set", route("sock.test", "internal")).path("applied").asBoolean()).isTrue();
            onSocket.awaitHttps("sock.test", "hello from upstream", Duration.ofSeconds(30));
            assertThat(g.call("ingress.status", "{}").path("inSync").asBoolean()).isTrue();
        }
    }

    @Test
    void withoutCaddyAdminTheIngressCommandsSayIngressIsOff() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b);
        AgentCallException e = g.error("ingress.list", "{}");
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("--caddy-admin");
    }
}
