package dev.hostdeploy.schema.ingress;

import static dev.hostdeploy.protocol.Validation.require;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Guardian's ingress commands: the routes of the host's Caddy server, each a hostname proxied to
 * an upstream on loopback or a container network, with a certificate from ACME, Caddy's internal CA,
 * or none. Values are checked as they are read; a bad value is {@code invalid_data} naming the field.
 * Which networks an upstream may be in is the Guardian's setting, checked there.
 */
public final class IngressSchema {
    /** Adds or replaces the route of one hostname: {@link Route} → {@link RouteSet}. Idempotent. */
    public static final String SET = "ingress.set";
    /** Removes one hostname's route or all of one owner's: {@link Remove} → {@link Removed}. */
    public static final String REMOVE = "ingress.remove";
    /** Every desired route: no data → {@link Routes}. */
    public static final String LIST = "ingress.list";
    /** Caddy's reachability, drift and each route's certificate: no data → {@link Status}. */
    public static final String STATUS = "ingress.status";

    public static final List<String> COMMANDS = List.of(SET, REMOVE, LIST, STATUS);

    /** How a route's certificate is had. */
    public enum Tls {
        /** From an ACME CA (Let's Encrypt, or {@code --acme-ca}): needs public DNS and port 80/443. */
        ACME,
        /** From Caddy's local CA: for tests and private names; clients must trust Caddy's root. */
        INTERNAL,
        /** Plain HTTP on the HTTP port only. */
        OFF;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Tls parse(String field, String value) {
            if (value == null) {
                return ACME;
            }
            for (Tls t : values()) {
                if (t.wire().equals(value)) {
                    return t;
                }
            }
            throw ProtocolException.invalid(field, "must be acme, internal or off");
        }
    }

    private IngressSchema() {
    }

    /**
     * One route: {@code {"host":"app.example.org","upstream":"127.0.0.1:8080","owner":"deployment/web","tls":"acme"}}.
     * The host is kept in its ASCII lowercase form, the upstream as Caddy dials it, tls defaults to acme.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Route(String host, String upstream, Owner owner, String tls) {
        public Route {
            host = Hostname.parse("host", host);
            upstream = Upstream.parse("upstream", upstream).toString();
            require(owner != null, "owner", "is required");
            tls = Tls.parse("tls", tls).wire();
        }

        public Upstream target() {
            return Upstream.parse("upstream", upstream);
        }

        public Tls tlsMode() {
            return Tls.parse("tls", tls);
        }
    }

    /**
     * {@code ingress.set}'s result: the route as the Guardian holds it, whether it was new or changed,
     * and whether Caddy took the new config now (false: Caddy did not answer; the route is saved and
     * the periodic check loads it once Caddy is back).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RouteSet(Route route, boolean changed, boolean applied) {
    }

    /** {@code ingress.remove}: {@code {"host"}} (an owner, if given, must hold it) or only {@code {"owner"}}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Remove(String host, Owner owner) {
        public Remove {
            require(host != null || owner != null, "host", "is required (or owner, to remove all of one owner's routes)");
            host = host == null ? null : Hostname.parse("host", host);
        }

        public static Remove owner(Owner owner) {
            return new Remove(null, owner);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Removed(int removed, boolean applied) {
    }

    /** {@code ingress.list}: every desired route; a hostname appears once. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Routes(List<Route> routes) {
        public Routes {
            routes = routes == null ? List.of() : List.copyOf(routes);
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < routes.size(); i++) {
                Integer j = seen.putIfAbsent(routes.get(i).host(), i);
                require(j == null, "routes[" + i + "].host", "already used by routes[" + j + "]");
            }
        }
    }

    /**
     * One route's state: its certificate as Caddy serves it (read by a TLS handshake), or why not
     * (no certificate yet, Caddy down, tls off).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RouteStatus(Route route, String certificateIssuer, String certificateNotAfter, String certificateError) {
    }

    /**
     * {@code ingress.status}: whether Caddy answers on its admin address, whether its config is the
     * desired one (drift is repaired by the periodic check), the ports, each route, the last repair.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Status(String caddyAdmin, boolean caddyReachable, boolean inSync, List<String> drift, int httpPort,
            int httpsPort, List<RouteStatus> routes, String lastRepair) {
        public Status {
            drift = drift == null ? List.of() : List.copyOf(drift);
            routes = routes == null ? List.of() : List.copyOf(routes);
        }
    }
}
