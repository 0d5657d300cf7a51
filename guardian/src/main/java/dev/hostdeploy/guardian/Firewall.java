package dev.hostdeploy.guardian;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Guardian's firewall: desired state in memory and on disk, kept in force in the kernel. Every
 * change is persisted before nft sees it; nft applies it as one transaction, so a refused change
 * leaves the previous ruleset (and, restored, the previous state file) in force.
 */
final class Firewall {
    private static final Logger LOG = LoggerFactory.getLogger(Firewall.class);

    private final Ruleset ruleset;
    private final Nft nft;
    private final StateStore store;
    private final Consumer<Object> events;
    private final List<Integer> protectedTcp = new ArrayList<>();

    /** The desired state, indexed so a single change does not cost more as ports pile up. */
    private Desired desired = new Desired(FirewallState.EMPTY);
    /** What we last put in the kernel; the base of element deltas. Null until a full apply succeeded. */
    private Ruleset.Elements applied;
    /** The chains' rules as nft listed them right after the last full apply: the reference for drift. */
    private List<String> baselineRules = List.of();
    private boolean started;
    private Map<String, Object> lastRepair;

    Firewall(Ruleset ruleset, Nft nft, StateStore store, Consumer<Object> events) {
        this.ruleset = ruleset;
        this.nft = nft;
        this.store = store;
        this.events = events;
    }

    /** Loads the saved state, reports and repairs whatever differs in the kernel, and starts serving. */
    synchronized void start(List<Integer> protectedTcpPorts) throws IOException {
        protectedTcp.clear();
        protectedTcp.addAll(new TreeSet<>(protectedTcpPorts));
        desired = new Desired(store.load());
        FirewallState state = desired.snapshot();
        Ruleset.Elements want = ruleset.elements(state, protectedTcp);
        List<String> drift = drift(want, false);
        try {
            fullApply(want);
        } catch (Nft.NftException e) {
            throw new IOException("nft refused the saved state in " + store.file() + ": " + e.getMessage());
        }
        nft.warmUp();
        started = true;
        if (!drift.isEmpty() && !(drift.size() == 1 && drift.get(0).contains("missing") && state.rules().isEmpty()
                && state.forwards().isEmpty())) {
            repaired(drift);
        }
    }

    List<Integer> protectedTcp() {
        return List.copyOf(protectedTcp);
    }

    // ------------------------------------------------------------------ commands

    record Change(boolean changed) {
    }

    synchronized Change open(Rule r) throws IOException {
        ready();
        if (r.equals(desired.opening(r))) {
            return new Change(false);
        }
        commit(null, StateStore.Change.addRule(r));
        return new Change(true);
    }

    record Closed(int closed) {
    }

    synchronized Closed close(Rule r) throws IOException {
        ready();
        if (r.proto() == Proto.TCP) {
            for (int p : protectedTcp) {
                if (r.ports().contains(p)) {
                    throw ProtocolException.conflict("port " + p + "/tcp is protected (SSH or the Guardian's own port)"
                            + " and always stays reachable; it cannot be closed through the API");
                }
            }
        }
        Rule held = desired.opening(r);
        if (held != null) {
            commit(null, StateStore.Change.removeRules(List.of(held)));
        }
        return new Closed(held == null ? 0 : 1);
    }

    synchronized Closed closeOwner(Owner owner) throws IOException {
        ready();
        List<Rule> gone = desired.rules().stream().filter(x -> owner.equals(x.owner())).toList();
        if (!gone.isEmpty()) {
            commit(null, StateStore.Change.removeRules(gone));
        }
        return new Closed(gone.size());
    }

    synchronized Change addForward(Forward f) throws IOException {
        ready();
        checkForwardPort(f, "hostPort");
        Forward x = desired.forwardAt(f.proto(), f.hostPort());
        if (x != null) {
            if (x.equals(f)) {
                return new Change(false);
            }
            throw ProtocolException.conflict("host port " + f.hostPort() + "/" + f.proto().wire()
                    + " already forwards: " + x.describe());
        }
        commit(null, StateStore.Change.addForward(f));
        return new Change(true);
    }

    private void checkForwardPort(Forward f, String field) {
        if (f.proto() == Proto.TCP && protectedTcp.contains(f.hostPort())) {
            throw new ProtocolException(ErrorCode.CONFLICT, field + ": port " + f.hostPort()
                    + "/tcp is protected (SSH or the Guardian's own port) and cannot be forwarded", field);
        }
    }

    record Removed(int removed) {
    }

    synchronized Removed removeForward(Proto proto, int hostPort, Owner owner) throws IOException {
        ready();
        return removeWhere(x -> x.proto() == proto && x.hostPort() == hostPort
                && (owner == null || owner.equals(x.owner())));
    }

    synchronized Removed removeForwards(Owner owner) throws IOException {
        ready();
        return removeWhere(x -> owner.equals(x.owner()));
    }

    private Removed removeWhere(java.util.function.Predicate<Forward> which) throws IOException {
        List<Forward> gone = desired.forwards().stream().filter(which).toList();
        if (!gone.isEmpty()) {
            commit(null, StateStore.Change.removeForwards(gone));
        }
        return new Removed(gone.size());
    }

    record Applied(int rules, int forwards, int elements) {
    }

    synchronized Applied apply(FirewallState next) throws IOException {
        ready();
        for (int i = 0; i < next.forwards().size(); i++) {
            checkForwardPort(next.forwards().get(i), "forwards[" + i + "].hostPort");
        }
        commit(next, null);
        return new Applied(next.rules().size(), next.forwards().size(), applied.count());
    }

    synchronized FirewallState state() {
        return desired.snapshot();
    }

    /** Status: counts and the drift between desired and actual state, without repairing it. */
    synchronized Map<String, Object> status() throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        Optional<JsonNode> listing = list();
        FirewallState state = desired.snapshot();
        Ruleset.Elements want = ruleset.elements(state, protectedTcp);
        s.put("table", ruleset.table());
        s.put("tablePresent", listing.isPresent());
        s.put("rules", state.rules().size());
        s.put("forwards", state.forwards().size());
        s.put("nftRules", listing.map(Firewall::countRules).orElse(0));
        s.put("nftElements", want.count());
        List<String> drift = compare(want, listing);
        s.put("inSync", drift.isEmpty());
        s.put("drift", drift);
        s.put("protectedTcpPorts", protectedTcp);
        s.put("lastRepair", lastRepair);
        return s;
    }

    /** The periodic check: repairs drift in the kernel and tells the Manager what it repaired. */
    synchronized List<String> checkAndRepair() throws IOException {
        if (!started) {
            return List.of();
        }
        Ruleset.Elements want = ruleset.elements(desired.snapshot(), protectedTcp);
        List<String> drift = drift(want, true);
        if (drift.isEmpty()) {
            return drift;
        }
        try {
            fullApply(want);
        } catch (Nft.NftException e) {
            LOG.error("could not repair table {}: {}", ruleset.table(), e.getMessage());
            return drift;
        }
        repaired(drift);
        return drift;
    }

    // ------------------------------------------------------------------ internals

    private void ready() {
        if (!started) {
            throw ProtocolException.unavailable("the Guardian is still starting");
        }
    }

    private void repaired(List<String> drift) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("event", "firewall.repaired");
        ev.put("table", ruleset.table());
        ev.put("repaired", drift);
        ev.put("at", Instant.now().toString());
        lastRepair = ev;
        LOG.warn("repaired drift in table inet {}: {}", ruleset.table(), drift);
        try {
            events.accept(ev);
        } catch (RuntimeException e) {
            LOG.warn("could not send the repair event: {}", e.toString());
        }
    }

    /**
     * Makes the desired state {@code next} (an apply; {@code change} is null) or the current one with
     * {@code change} made: durable first (the whole snapshot for an apply, one journal line for a
     * change), then in the kernel. If nft refuses, the previous state stays in force, in the kernel and
     * on disk. A change costs the same however many ports are open: the snapshot of the whole state is
     * only built for an apply, a table rebuild or a compaction of the journal.
     */
    private void commit(FirewallState next, StateStore.Change change) throws IOException {
        FirewallState before = change == null ? desired.snapshot() : null;
        long mark = -1;
        if (change == null) {
            store.save(next);
        } else {
            mark = store.append(change);
        }
        try {
            if (change == null) {
                fullApply(ruleset.elements(next, protectedTcp));
            } else if (applied == null) {
                fullApply(ruleset.elements(change.applyTo(desired.snapshot()), protectedTcp));
            } else {
                Ruleset.Update u = ruleset.update(applied, desired, change);
                try {
                    if (!u.isEmpty()) {
                        nft.applyQuick(u.batch);
                    }
                    u.applied();
                } catch (Nft.NftException | IOException e) {
                    if (e instanceof IOException) {
                        applied = null; // nft died mid-change: whether it was applied is unknown
                    }
                    // The kernel may have drifted from what we last applied: rebuild the table instead.
                    LOG.info("element update failed ({}), rebuilding table", e.getMessage());
                    fullApply(ruleset.elements(change.applyTo(desired.snapshot()), protectedTcp));
                }
            }
        } catch (Nft.NftException | IOException e) {
            if (change == null) {
                store.save(before);
            } else {
                store.rollback(mark);
            }
            if (e instanceof IOException io) {
                applied = null; // unknown kernel state: the next change rebuilds the table
                throw io;
            }
            throw new ProtocolException(ErrorCode.CONFLICT,
                    "nft rejected the new ruleset; the previous state stays in force: " + e.getMessage());
        }
        if (change == null) {
            desired = new Desired(next);
        } else {
            desired.apply(change);
            try {
                store.compactIfNeeded(desired::snapshot);
            } catch (IOException e) {
                // The journal still holds every change; compaction is retried after the next one.
                LOG.warn("could not compact the state journal: {}", e.toString());
            }
        }
    }

    /** Stops the long-lived nft process and closes the journal; the table stays in force. */
    synchronized void close() {
        nft.close();
        try {
            store.close();
        } catch (IOException e) {
            LOG.warn("could not close the state journal: {}", e.toString());
        }
    }

    java.util.OptionalLong nftSessionPid() {
        return nft.sessionPid();
    }

    private void fullApply(Ruleset.Elements want) throws Nft.NftException, IOException {
        nft.apply(ruleset.full(want));
        applied = want;
        baselineRules = list().map(Firewall::rules).orElse(List.of());
    }

    private Optional<JsonNode> list() throws IOException {
        try {
            return nft.listTable(Ruleset.FAMILY, ruleset.table());
        } catch (Nft.NftException e) {
            throw new IOException("nft could not list table " + ruleset.table() + ": " + e.getMessage());
        }
    }

    private List<String> drift(Ruleset.Elements want, boolean checkRules) throws IOException {
        Optional<JsonNode> listing = list();
        List<String> d = compare(want, listing);
        if (checkRules && listing.isPresent() && !rules(listing.get()).equals(baselineRules)) {
            d.add("chains or rules of table inet " + ruleset.table() + " were changed");
        }
        return d;
    }

    private List<String> compare(Ruleset.Elements want, Optional<JsonNode> listing) {
        List<String> d = new ArrayList<>();
        if (listing.isEmpty()) {
            d.add("table inet " + ruleset.table() + " was missing");
            return d;
        }
        Map<String, Map<String, Boolean>> actual = new LinkedHashMap<>();
        for (JsonNode item : listing.get().path("nftables")) {
            JsonNode set = item.has("set") ? item.get("set") : item.get("map");
            if (set == null) {
                continue;
            }
            Map<String, Boolean> keys = new LinkedHashMap<>();
            set.path("elem").forEach(e -> keys.put(Ruleset.key(e), true));
            actual.put(set.path("name").asText(), keys);
        }
        for (Map.Entry<String, Map<String, JsonNode>> e : want.bySet.entrySet()) {
            Map<String, Boolean> have = actual.get(e.getKey());
            if (have == null) {
                d.add("set " + e.getKey() + " was missing");
                continue;
            }
            long missing = e.getValue().keySet().stream().filter(k -> !have.containsKey(k)).count();
            if (missing > 0) {
                d.add("set " + e.getKey() + ": " + missing + " element(s) missing");
            }
        }
        for (Map.Entry<String, Map<String, Boolean>> e : actual.entrySet()) {
            Map<String, JsonNode> wanted = want.of(e.getKey());
            long extra = e.getValue().keySet().stream().filter(k -> !wanted.containsKey(k)).count();
            if (extra > 0) {
                d.add("set " + e.getKey() + ": " + extra + " unexpected element(s)");
            }
        }
        return d;
    }

    private static List<String> rules(JsonNode listing) {
        List<String> out = new ArrayList<>();
        for (JsonNode item : listing.path("nftables")) {
            if (item.has("chain")) {
                JsonNode c = item.get("chain");
                out.add("chain " + c.path("name").asText() + " " + c.path("hook").asText() + " "
                        + c.path("prio").asText() + " " + c.path("policy").asText());
            } else if (item.has("rule")) {
                JsonNode r = item.get("rule");
                out.add(r.path("chain").asText() + " " + r.path("expr"));
            }
        }
        return out;
    }

    static int countRules(JsonNode listing) {
        int n = 0;
        for (JsonNode item : listing.path("nftables")) {
            if (item.has("rule")) {
                n++;
            }
        }
        return n;
    }
}
