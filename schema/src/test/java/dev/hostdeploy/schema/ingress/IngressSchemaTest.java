package dev.hostdeploy.schema.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.ingress.IngressSchema.Remove;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import dev.hostdeploy.schema.ingress.IngressSchema.Routes;
import java.util.List;
import org.junit.jupiter.api.Test;

class IngressSchemaTest {
    private static final Owner WEB = Owner.of("deployment", "web");

    private static String field(Runnable r) {
        try {
            r.run();
        } catch (ProtocolException e) {
            return e.field();
        }
        throw new AssertionError("accepted");
    }

    @Test
    void aRouteIsKeptInTheFormCaddyMatches() throws Exception {
        Route r = new Route("Bücher.Example.ORG.", "localhost:8080", WEB, null);
        assertThat(r.host()).isEqualTo("xn--bcher-kva.example.org");
        assertThat(r.upstream()).isEqualTo("127.0.0.1:8080");
        assertThat(r.tls()).isEqualTo("acme");
        assertThat(new Route("app.test", "[::1]:80", WEB, "internal").upstream()).isEqualTo("[::1]:80");
        assertThat(Json.MAPPER.writeValueAsString(r)).isEqualTo("{\"host\":\"xn--bcher-kva.example.org\","
                + "\"upstream\":\"127.0.0.1:8080\",\"owner\":\"deployment/web\",\"tls\":\"acme\"}");
        assertThat(Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(r), Route.class)).isEqualTo(r);
    }

    @Test
    void badHostnamesAreRefusedNamingTheHostField() {
        for (String h : List.of("app test.org", "*.example.org", "a*.example.org", "localhost", "-a.example.org",
                "a-.example.org", "a..example.org", "a_b.example.org", "10.0.0.1", "a.example.org\n",
                "x".repeat(64) + ".example.org", ("abcdefghi.".repeat(26)) + "org", "")) {
            assertThat(field(() -> new Route(h, "127.0.0.1:80", WEB, "acme"))).as(h).isEqualTo("host");
        }
        assertThatThrownBy(() -> new Route("*.example.org", "127.0.0.1:80", WEB, "acme"))
                .hasMessageContaining("wildcard");
    }

    @Test
    void badUpstreamsTlsAndOwnersAreRefusedNamingTheirField() {
        for (String u : List.of("127.0.0.1", "example.org:80", "127.0.0.1:0", "127.0.0.1:70000", "::1:80",
                "[127.0.0.1]:80", "1.2.3.4:80 ", "")) {
            assertThat(field(() -> new Route("app.test", u, WEB, "acme"))).as(u).isEqualTo("upstream");
        }
        assertThat(field(() -> new Route("app.test", "127.0.0.1:80", WEB, "letsencrypt"))).isEqualTo("tls");
        assertThat(field(() -> new Route("app.test", "127.0.0.1:80", null, "off"))).isEqualTo("owner");
        assertThat(field(() -> new Remove(null, null))).isEqualTo("host");
        assertThat(field(() -> new Routes(List.of(new Route("a.test", "127.0.0.1:1", WEB, null),
                new Route("A.test", "127.0.0.1:2", WEB, null))))).isEqualTo("routes[1].host");
    }

    @Test
    void anUpstreamOutsideTheAllowedNetworksIsInvalid() {
        var nets = Upstream.networks("networks", Upstream.DEFAULT_NETWORKS);
        Upstream.parse("upstream", "127.0.0.1:8080").requireIn("upstream", nets);
        Upstream.parse("upstream", "172.17.0.2:80").requireIn("upstream", nets);
        Upstream.parse("upstream", "[::1]:80").requireIn("upstream", nets);
        assertThat(field(() -> Upstream.parse("upstream", "203.0.113.5:80").requireIn("upstream", nets)))
                .isEqualTo("upstream");
        assertThat(field(() -> Upstream.parse("upstream", "[2001:db8::1]:80").requireIn("upstream", nets)))
                .isEqualTo("upstream");
    }

    @Test
    void aHostIsUnderASuffixOnlyAtALabelBoundary() {
        assertThat(Hostname.under("a.apps.example.org", ".apps.example.org")).isTrue();
        assertThat(Hostname.under("a.apps.example.org", "apps.example.org")).isTrue();
        assertThat(Hostname.under("evilapps.example.org", "apps.example.org")).isFalse();
    }
}
