package dev.hostdeploy.guardian;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.nft.ElementPlanner;
import dev.hostdeploy.guardian.nft.Elements;
import dev.hostdeploy.guardian.nft.Nft;
import dev.hostdeploy.guardian.nft.Table;
import dev.hostdeploy.guardian.state.Desired;
import dev.hostdeploy.guardian.state.FirewallState;
import dev.hostdeploy.guardian.state.Forward;
import dev.hostdeploy.guardian.state.HostPort;
import dev.hostdeploy.guardian.state.Rule;
import dev.hostdeploy.guardian.state.StateStore;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema.Applied;
import dev.hostdeploy.schema.firewall.FirewallSchema.Repaired;
import dev.hostdeploy.schema.firewall.FirewallSchema.Status;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.firewall.Proto;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    private final Table table;
    private final ElementPlanner planner;
    private final Nft nft;
    private final StateStore store;
    private final Consumer<Object> events;
    private final List<Integer> protectedTcp = new ArrayList<>();

    /** The desired state, indexed so a single change does not cost more as ports pile up. */
    private Desired desired = new Desired(FirewallState.EMPTY);
    /** What we last put in the kernel; the base of element deltas. Null until a full apply succeeded. */
    private Elements applied;
    /** The chains' rules as nft listed them right after the last full apply: the reference for drift. */
    private List<String> baselineRules = List.of();
    private boolean started;
    private Repaired lastRepair;

    Firewall(Table table, Nft nft, StateStore store, Consumer<Object> events) {
        this.table = table;
        this.planner = new ElementPlanner(table);
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
        Elements want = planner.elements(state, protectedTcp);
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

    /** Opens {@code r}; false when it was already open exactly so. */
    synchronized boolean open(Rule r) throws IOException {
        ready();
        if (r.equals(desired.opening(r))) {
            return false;
        }
        commit(null, StateStore.Change.addRule(r));
        return true;
    }

    /** Closes the opening {@code r} names (its comment aside); how many were closed (0 or 1). */
    synchronized int close(Rule r) throws IOException {
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
        return held == null ? 0 : 1;
    }

    synchronized int closeOwner(Owner owner) throws IOException {
        ready();
        List<Rule> gone = desired.rules().stream().filter(x -> owner.equals(x.owner())).toList();
        if (!gone.isEmpty()) {
            commit(null, StateStore.Change.removeRules(gone));
        }
        return gone.size();
    }

    /** Adds {@code f}; false when it was already there exactly so. */
    synchronized boolean addForward(Forward f) throws IOException {
        ready();
        checkForwardPort(f, "hostPort");
        Forward x = desired.forwardAt(f.key());
        if (x != null) {
            if (x.equals(f)) {
                return false;
            }
            throw ProtocolException.conflict("host port " + f.hostPort() + "/" + f.proto().wire()
                    + " already forwards: " + x.describe());
        }
        commit(null, StateStore.Change.addForward(f));
        return true;
    }

    private void checkForwardPort(Forward f, String field) {
        if (f.proto() == Proto.TCP && protectedTcp.contains(f.hostPort())) {
            throw new ProtocolException(ErrorCode.CONFLICT, field + ": port " + f.hostPort()
                    + "/tcp is protected (SSH or the Guardian's own port) and cannot be forwarded", field);
        }
    }

    /** Removes the forward of a host port (only if {@code owner}, when given, holds it); how many were removed. */
    synchronized int removeForward(HostPort port, Owner owner) throws IOException {
        ready();
        Forward x = desired.forwardAt(port);
        return remove(x != null && (owner == null || owner.equals(x.owner())) ? List.of(x) : List.of());
    }

    synchronized int removeForwards(Owner owner) throws IOException {
        ready();
        return remove(desired.forwards().stream().filter(x -> owner.equals(x.owner())).toList());
    }

    private int remove(List<Forward> gone) throws IOException {
        if (!gone.isEmpty()) {
            commit(null, StateStore.Change.removeForwards(gone));
        }
        return gone.size();
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
    synchronized Status status() throws IOException {
        Optional<JsonNode> listing = list();
        FirewallState state = desired.snapshot();
        Elements want = planner.elements(state, protectedTcp);
        List<String> drift = table.compare(want, listing);
        return new Status(table.name(), listing.isPresent(), state.rules().size(), state.forwards().size(),
                listing.map(Table::countRules).orElse(0), want.count(), drift.isEmpty(), drift, protectedTcp,
                lastRepair);
    }

    /** The periodic check: repairs drift in the kernel and tells the Manager what it repaired. */
    synchronized List<String> checkAndRepair() throws IOException {
        if (!started) {
            return List.of();
        }
        Elements want = planner.elements(desired.snapshot(), protectedTcp);
        List<String> drift = drift(want, true);
        if (drift.isEmpty()) {
            return drift;
        }
        try {
            fullApply(want);
        } catch (Nft.NftException e) {
            LOG.error("could not repair table {}: {}", table.name(), e.getMessage());
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
        Repaired ev = new Repaired(FirewallSchema.REPAIRED, table.name(), drift, Instant.now().toString());
        lastRepair = ev;
        LOG.warn("repaired drift in table inet {}: {}", table.name(), drift);
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
                fullApply(planner.elements(next, protectedTcp));
            } else if (applied == null) {
                fullApply(planner.elements(change.applyTo(desired.snapshot()), protectedTcp));
            } else {
                ElementPlanner.Update u = planner.update(applied, desired, change);
                try {
                    if (!u.isEmpty()) {
                        nft.applyQuick(u.batch());
                    }
                    u.applied();
                } catch (Nft.NftException | IOException e) {
                    if (e instanceof IOException) {
                        applied = null; // nft died mid-change: whether it was applied is unknown
                    }
                    // The kernel may have drifted from what we last applied: rebuild the table instead.
                    LOG.info("element update failed ({}), rebuilding table", e.getMessage());
                    fullApply(planner.elements(change.applyTo(desired.snapshot()), protectedTcp));
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

    /** Writes a new snapshot if the journal (which ingress routes share) has outgrown the last one. */
    synchronized void compact() {
        try {
            store.compactIfNeeded(desired::snapshot);
        } catch (IOException e) {
            LOG.warn("could not compact the state journal: {}", e.toString());
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

    private void fullApply(Elements want) throws Nft.NftException, IOException {
        nft.apply(table.full(want));
        applied = want;
        baselineRules = list().map(Table::rules).orElse(List.of());
    }

    private Optional<JsonNode> list() throws IOException {
        try {
            return nft.listTable(Table.FAMILY, table.name());
        } catch (Nft.NftException e) {
            throw new IOException("nft could not list table " + table.name() + ": " + e.getMessage());
        }
    }

    private List<String> drift(Elements want, boolean checkRules) throws IOException {
        Optional<JsonNode> listing = list();
        List<String> d = table.compare(want, listing);
        if (checkRules && listing.isPresent() && !Table.rules(listing.get()).equals(baselineRules)) {
            d.add("chains or rules of table inet " + table.name() + " were changed");
        }
        return d;
    }
}
