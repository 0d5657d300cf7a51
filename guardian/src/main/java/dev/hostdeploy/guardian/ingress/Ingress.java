package dev.hostdeploy.guardian.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.state.StateStore;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.ingress.IngressSchema.Removed;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import dev.hostdeploy.schema.ingress.IngressSchema.RouteSet;
import dev.hostdeploy.schema.ingress.IngressSchema.RouteStatus;
import dev.hostdeploy.schema.ingress.IngressSchema.Status;
import dev.hostdeploy.schema.ingress.IngressSchema.Tls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's HTTP(S) front: the desired Caddy routes, journaled in the Guardian's state store beside
 * the firewall state, put in force as one whole-config load, and kept there by the drift check (a
 * restarted Caddy comes back with its own config file, which the next check replaces). While any
 * route exists the HTTP and HTTPS ports are open in the Guardian's firewall, held by {@link #OWNER}.
 *
 * <p>Changes take the firewall's lock ({@code lock}): both write the same journal, and a firewall
 * change that nft refuses rolls back by truncating the journal, which must not cut off a route.
 */
public final class Ingress {
    private static final Logger LOG = LoggerFactory.getLogger(Ingress.class);
    /** Who holds the HTTP and HTTPS openings in the firewall. */
    public static final Owner OWNER = Owner.of("ingress", "caddy");

    /** What the Guardian's firewall does for the front. */
    public interface Front {
        void open(List<Integer> tcpPorts, Owner owner) throws IOException;

        void closeOwner(Owner owner) throws IOException;

        /** Writes a new snapshot when the journal has outgrown the last one. */
        void compact();
    }

    private final CaddyAdmin caddy;
    private final CaddyConfig config;
    private final List<Cidr> upstreamNetworks;
    private final StateStore store;
    private final Object lock;
    private final Front front;
    private Map<String, Route> routes = new LinkedHashMap<>();
    private volatile String lastRepair;

    public Ingress(CaddyAdmin caddy, CaddyConfig config, List<Cidr> upstreamNetworks, StateStore store, Object lock,
            Front front) {
        this.caddy = caddy;
        this.config = config;
        this.upstreamNetworks = List.copyOf(upstreamNetworks);
        this.store = store;
        this.lock = lock;
        this.front = front;
    }

    /** Takes the routes the store loaded (the firewall loads it first) and puts them in force as far as Caddy answers. */
    public void start() throws IOException {
        synchronized (lock) {
            routes = store.routes();
            syncPorts(!routes.isEmpty());
        }
        try {
            checkAndRepair();
        } catch (IOException e) {
            LOG.warn("Caddy at {} did not take the routes yet ({}); the drift check retries", caddy.address(), e.getMessage());
        }
    }

    public RouteSet set(Route r) throws IOException {
        r.target().requireIn("upstream", upstreamNetworks);
        synchronized (lock) {
            Route held = routes.get(r.host());
            if (held != null && !held.owner().equals(r.owner())) {
                throw ProtocolException.conflict("host " + r.host() + " is already routed for " + held.owner());
            }
            boolean changed = !r.equals(held);
            if (changed) {
                commit(List.of(r), List.of());
            }
            return new RouteSet(r, changed, changed ? lastLoadOk : pushIfDrifted());
        }
    }

    public Removed remove(String host, Owner owner) throws IOException {
        synchronized (lock) {
            List<String> gone = routes.values().stream()
                    .filter(r -> (host == null || r.host().equals(host)) && (owner == null || owner.equals(r.owner())))
                    .map(Route::host).toList();
            if (!gone.isEmpty()) {
                commit(List.of(), gone);
            }
            return new Removed(gone.size(), gone.isEmpty() ? pushIfDrifted() : lastLoadOk);
        }
    }

    public List<Route> routes() {
        synchronized (lock) {
            return List.copyOf(routes.values());
        }
    }

    private boolean lastLoadOk;

    /**
     * Journals the change, opens the ports if this is the first route, loads the new config, and
     * closes the ports if no route is left. Caddy refusing the config takes the change back; Caddy not
     * answering keeps it (the drift check loads it later) and says so in the result.
     */
    private void commit(List<Route> set, List<String> remove) throws IOException {
        Map<String, Route> before = new LinkedHashMap<>(routes);
        long mark = store.appendRoutes(set, remove);
        Map<String, Route> next = new LinkedHashMap<>(routes);
        remove.forEach(next::remove);
        set.forEach(r -> next.put(r.host(), r));
        try {
            if (!next.isEmpty()) {
                syncPorts(true);
            }
            caddy.load(config.build(next.values()));
            lastLoadOk = true;
        } catch (CaddyAdmin.CaddyException e) {
            store.rollbackRoutes(mark, before);
            throw ProtocolException.conflict("Caddy refused the new config; the previous routes stay in force: "
                    + e.getMessage());
        } catch (IOException e) {
            LOG.warn("Caddy at {} did not answer ({}); the route change is saved and the drift check applies it",
                    caddy.address(), e.toString());
            lastLoadOk = false;
        }
        routes = next;
        if (next.isEmpty()) {
            syncPorts(false);
        }
        front.compact();
    }

    /** Opens the HTTP and HTTPS ports while any route exists (the firewall makes either idempotent). */
    private void syncPorts(boolean any) throws IOException {
        if (any) {
            front.open(List.of(config.httpPort(), config.httpsPort()), OWNER);
        } else {
            front.closeOwner(OWNER);
        }
    }

    private boolean pushIfDrifted() {
        try {
            checkAndRepair();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The periodic check: compares Caddy's config with the desired one and loads the desired one when
     * they differ (Caddy restarted with its own config file, or someone changed it). Returns what was
     * repaired; throws when Caddy does not answer.
     */
    public List<String> checkAndRepair() throws IOException {
        synchronized (lock) {
            JsonNode want = config.build(routes.values());
            List<String> drift = drift(caddy.config(), want);
            if (drift.isEmpty()) {
                return drift;
            }
            caddy.load(want);
            lastRepair = Instant.now() + " " + String.join("; ", drift);
            LOG.warn("repaired Caddy's config at {}: {}", caddy.address(), drift);
            return drift;
        }
    }

    private List<String> drift(JsonNode actual, JsonNode want) {
        if (want.equals(actual)) {
            return List.of();
        }
        List<String> d = new ArrayList<>();
        JsonNode listen = actual == null ? null : actual.path("admin").path("listen");
        Map<String, JsonNode> have = new LinkedHashMap<>();
        if (actual != null) {
            for (JsonNode server : actual.path("apps").path("http").path("servers")) {
                for (JsonNode route : server.path("routes")) {
                    for (JsonNode host : route.path("match").path(0).path("host")) {
                        have.put(host.asText(), route);
                    }
                }
            }
        }
        int missing = 0;
        for (Route r : routes.values()) {
            if (!have.containsKey(r.host())) {
                missing++;
            }
        }
        if (actual == null || actual.isNull()) {
            d.add("Caddy runs with an empty config");
        } else if (missing > 0) {
            d.add(missing + " of " + routes.size() + " routes missing from Caddy's config");
        }
        if (listen != null && !listen.isMissingNode() && !caddy.listen().equals(listen.asText())) {
            d.add("Caddy's admin listens on " + listen.asText());
        }
        if (d.isEmpty()) {
            d.add("Caddy's config differs from the desired one");
        }
        return d;
    }

    public Status status() {
        List<Route> rs = routes();
        boolean reachable;
        List<String> drift;
        try {
            JsonNode actual = caddy.config();
            reachable = true;
            synchronized (lock) {
                drift = drift(actual, config.build(routes.values()));
            }
        } catch (IOException e) {
            reachable = false;
            drift = List.of("Caddy's admin API at " + caddy.address() + " does not answer: " + e.getMessage());
        }
        List<RouteStatus> out = new ArrayList<>();
        for (Route r : rs) {
            out.add(r.tlsMode() == Tls.OFF || !reachable ? new RouteStatus(r, null, null,
                    r.tlsMode() == Tls.OFF ? null : "Caddy does not answer") : certificate(r));
        }
        return new Status(caddy.address(), reachable, reachable && drift.isEmpty(), drift, config.httpPort(),
                config.httpsPort(), out, lastRepair);
    }

    /**
     * The certificate Caddy serves for the route, read by a TLS handshake on loopback (Caddy's admin API
     * does not list managed certificates). Only read, never trusted: any chain is accepted here.
     */
    private RouteStatus certificate(Route r) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new ReadOnly()}, null);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
                s.connect(new InetSocketAddress("127.0.0.1", config.httpsPort()), 3000);
                s.setSoTimeout(5000);
                SSLParameters p = s.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName(r.host())));
                s.setSSLParameters(p);
                s.startHandshake();
                X509Certificate c = (X509Certificate) s.getSession().getPeerCertificates()[0];
                return new RouteStatus(r, c.getIssuerX500Principal().getName(), c.getNotAfter().toInstant().toString(), null);
            }
        } catch (Exception e) {
            return new RouteStatus(r, null, null, "no certificate served yet: " + e.getMessage());
        }
    }

    private static final class ReadOnly implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    public CaddyAdmin caddy() {
        return caddy;
    }
}
