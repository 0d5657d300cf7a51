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
 * <p>Route changes and Caddy calls hold this object's lock. Journal appends also take the firewall's
 * lock ({@code firewallLock}): both write the same journal, and a firewall change that nft refuses is
 * taken back by truncating the journal, which must not cut off a route appended meanwhile. So a slow
 * Caddy never holds up firewall commands.
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
    private final Object firewallLock;
    private final Front front;
    private Map<String, Route> routes = new LinkedHashMap<>();
    private volatile String lastRepair;

    public Ingress(CaddyAdmin caddy, CaddyConfig config, List<Cidr> upstreamNetworks, StateStore store, Object firewallLock,
            Front front) {
        this.caddy = caddy;
        this.config = config;
        this.upstreamNetworks = List.copyOf(upstreamNetworks);
        this.store = store;
        this.firewallLock = firewallLock;
        this.front = front;
    }

    /** Takes the routes the store loaded (the firewall loads it first) and puts them in force as far as Caddy answers. */
    public void start() throws IOException {
        synchronized (this) {
            routes = store.routes();
            syncPorts(!routes.isEmpty());
        }
        try {
            checkAndRepair();
        } catch (IOException e) {
            LOG.warn("Caddy at {} did not take the routes yet ({}); the drift check retries", caddy.address(), e.getMessage());
        }
    }

    public synchronized RouteSet set(Route r) throws IOException {
        r.target().requireIn("upstream", upstreamNetworks);
        Route held = routes.get(r.host());
        if (held != null && !held.owner().equals(r.owner())) {
            throw ProtocolException.conflict("host " + r.host() + " is already routed for " + held.owner());
        }
        if (r.equals(held)) {
            return new RouteSet(r, false, pushIfDrifted());
        }
        return new RouteSet(r, true, commit(List.of(r), List.of()));
    }

    public synchronized Removed remove(String host, Owner owner) throws IOException {
        List<String> gone = routes.values().stream()
                .filter(r -> (host == null || r.host().equals(host)) && (owner == null || owner.equals(r.owner())))
                .map(Route::host).toList();
        return new Removed(gone.size(), gone.isEmpty() ? pushIfDrifted() : commit(List.of(), gone));
    }

    public synchronized List<Route> routes() {
        return List.copyOf(routes.values());
    }

    /**
     * Opens the ports if this is the first route, journals the change, loads the new config, and
     * closes the ports if no route is left. Caddy refusing the config takes the change back (by a
     * journal line undoing it: the firewall may have appended lines meanwhile); Caddy not answering
     * keeps it, for the drift check to load, and returns false.
     */
    private boolean commit(List<Route> set, List<String> remove) throws IOException {
        Map<String, Route> before = new LinkedHashMap<>(routes);
        Map<String, Route> next = new LinkedHashMap<>(routes);
        remove.forEach(next::remove);
        set.forEach(r -> next.put(r.host(), r));
        if (!next.isEmpty()) {
            syncPorts(true); // first: nft refusing it leaves nothing to take back
        }
        journal(set, remove);
        boolean loaded;
        try {
            caddy.load(config.build(next.values()));
            loaded = true;
        } catch (CaddyAdmin.CaddyException e) {
            List<Route> undoSet = new ArrayList<>();
            List<String> undoRemove = new ArrayList<>();
            for (String host : next.keySet()) {
                if (!before.containsKey(host)) {
                    undoRemove.add(host);
                }
            }
            for (Route r : before.values()) {
                if (!r.equals(next.get(r.host()))) {
                    undoSet.add(r);
                }
            }
            journal(undoSet, undoRemove);
            if (before.isEmpty()) {
                syncPorts(false);
            }
            throw ProtocolException.conflict("Caddy refused the new config; the previous routes stay in force: "
                    + e.getMessage());
        } catch (IOException e) {
            LOG.warn("Caddy at {} did not answer ({}); the route change is saved and the drift check applies it",
                    caddy.address(), e.toString());
            loaded = false;
        }
        routes = next;
        if (next.isEmpty()) {
            syncPorts(false);
        }
        front.compact();
        return loaded;
    }

    /** Appends to the journal the firewall writes too, under the firewall's lock (its rollback truncates the journal). */
    private void journal(List<Route> set, List<String> remove) throws IOException {
        synchronized (firewallLock) {
            store.appendRoutes(set, remove);
        }
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
    public synchronized List<String> checkAndRepair() throws IOException {
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
            synchronized (this) {
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
