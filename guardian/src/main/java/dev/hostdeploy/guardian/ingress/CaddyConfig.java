package dev.hostdeploy.guardian.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import dev.hostdeploy.schema.ingress.IngressSchema.Tls;
import java.util.Collection;
import java.util.List;

/**
 * Builds Caddy's whole JSON config from the desired routes: one HTTPS server on the HTTPS port for
 * routes with a certificate (Caddy's automatic HTTPS gets the certificates and redirects their plain
 * HTTP to HTTPS), one HTTP server on the HTTP port for routes with {@code tls off}, and one TLS
 * automation policy per issuer. The admin address is written into the config, or a load would move
 * the admin API back to Caddy's default. Caddy hands the same JSON back from {@code GET /config/},
 * so comparing the two trees is the drift check.
 */
public record CaddyConfig(String adminListen, int httpPort, int httpsPort, String acmeEmail, String acmeCa) {
    static final String HTTPS_SERVER = "hostdeploy_https";
    static final String HTTP_SERVER = "hostdeploy_http";

    public JsonNode build(Collection<Route> routes) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.putObject("admin").put("listen", adminListen);
        List<Route> secure = routes.stream().filter(r -> r.tlsMode() != Tls.OFF).toList();
        List<Route> plain = routes.stream().filter(r -> r.tlsMode() == Tls.OFF).toList();
        if (routes.isEmpty()) {
            return root; // nothing listens on the HTTP(S) ports while no route exists
        }
        ObjectNode apps = root.putObject("apps");
        // Caddy would otherwise try to add its local root to the host's trust store.
        apps.putObject("pki").putObject("certificate_authorities").putObject("local").put("install_trust", false);
        ObjectNode http = apps.putObject("http");
        http.put("http_port", httpPort).put("https_port", httpsPort);
        ObjectNode servers = http.putObject("servers");
        if (!secure.isEmpty()) {
            ObjectNode s = servers.putObject(HTTPS_SERVER);
            s.putArray("listen").add(":" + httpsPort);
            addRoutes(s.putArray("routes"), secure);
        }
        if (!plain.isEmpty()) {
            ObjectNode s = servers.putObject(HTTP_SERVER);
            s.putArray("listen").add(":" + httpPort);
            addRoutes(s.putArray("routes"), plain);
        }
        ArrayNode policies = Json.MAPPER.createArrayNode();
        addPolicy(policies, secure, Tls.INTERNAL);
        addPolicy(policies, secure, Tls.ACME);
        if (!policies.isEmpty()) {
            apps.putObject("tls").putObject("automation").set("policies", policies);
        }
        return root;
    }

    private static void addRoutes(ArrayNode out, List<Route> routes) {
        for (Route r : routes) {
            ObjectNode route = out.addObject();
            route.putArray("match").addObject().putArray("host").add(r.host());
            ObjectNode proxy = route.putArray("handle").addObject();
            proxy.put("handler", "reverse_proxy");
            proxy.putArray("upstreams").addObject().put("dial", r.upstream());
            route.put("terminal", true);
        }
    }

    private void addPolicy(ArrayNode policies, List<Route> secure, Tls tls) {
        List<String> hosts = secure.stream().filter(r -> r.tlsMode() == tls).map(Route::host).toList();
        if (hosts.isEmpty()) {
            return;
        }
        ObjectNode p = policies.addObject();
        ArrayNode subjects = p.putArray("subjects");
        hosts.forEach(subjects::add);
        ObjectNode issuer = p.putArray("issuers").addObject();
        if (tls == Tls.INTERNAL) {
            issuer.put("module", "internal");
        } else {
            issuer.put("module", "acme");
            if (acmeCa != null) {
                issuer.put("ca", acmeCa);
            }
            if (acmeEmail != null) {
                issuer.put("email", acmeEmail);
            }
        }
    }
}
