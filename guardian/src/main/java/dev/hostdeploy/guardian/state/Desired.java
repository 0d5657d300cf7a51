package dev.hostdeploy.guardian.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The desired state as the Firewall keeps it between changes: indexed by opening and host port, so
 * one open, close or forward costs the same however many ports are open. Mutated only once a change
 * is durable and in force; {@link #snapshot} gives the same state as an immutable
 * {@link FirewallState} (built when asked for, e.g. by {@code firewall.list}, and kept until the next
 * change). Not thread-safe: the Firewall's lock guards it.
 */
public final class Desired {
    /** In the order {@link FirewallState} keeps them: a changed opening keeps its place. */
    private final LinkedHashMap<Opening, Rule> rules = new LinkedHashMap<>();
    /** The openings that are not one port open to everyone: ranges and source-limited ones (few). */
    private final LinkedHashMap<Opening, Rule> others = new LinkedHashMap<>();
    /** How many openings open exactly this one port to everyone (several owners may hold one port). */
    private final Map<HostPort, Integer> singles = new HashMap<>();
    private final LinkedHashMap<HostPort, Forward> forwards = new LinkedHashMap<>();
    private FirewallState snapshot;

    public Desired(FirewallState s) {
        s.rules().forEach(this::put);
        s.forwards().forEach(this::putForward);
        // A hand-edited state file may repeat an opening: then the index, not s, is the state.
        snapshot = rules.size() == s.rules().size() && forwards.size() == s.forwards().size() ? s : null;
    }

    public FirewallState snapshot() {
        if (snapshot == null) {
            snapshot = new FirewallState(new ArrayList<>(rules.values()), new ArrayList<>(forwards.values()));
        }
        return snapshot;
    }

    /** The rule holding the same opening as {@code r} (its comment may differ), or null. */
    public Rule opening(Rule r) {
        return rules.get(Opening.of(r));
    }

    public Forward forwardAt(HostPort port) {
        return forwards.get(port);
    }

    public Collection<Rule> rules() {
        return rules.values();
    }

    public Collection<Forward> forwards() {
        return forwards.values();
    }

    /** Applies a change as {@link StateStore.Change#applyTo} would: removals (exact matches) first. */
    public void apply(StateStore.Change c) {
        for (Rule r : c.removeRules()) {
            Opening o = Opening.of(r);
            if (r.equals(rules.get(o))) {
                rules.remove(o);
                others.remove(o);
                if (r.single()) {
                    singles.computeIfPresent(new HostPort(r.proto(), r.ports().first()), (k, n) -> n == 1 ? null : n - 1);
                }
            }
        }
        for (Forward f : c.removeForwards()) {
            HostPort k = f.key();
            if (f.equals(forwards.get(k))) {
                forwards.remove(k);
            }
        }
        c.addRules().forEach(this::put);
        for (Forward f : c.addForwards()) {
            forwards.remove(f.key()); // a new forward goes last, as in FirewallState
            putForward(f);
        }
        snapshot = null;
    }

    private void put(Rule r) {
        Opening o = Opening.of(r);
        if (rules.put(o, r) == null && r.single()) {
            singles.merge(new HostPort(r.proto(), r.ports().first()), 1, Integer::sum);
        }
        if (!r.single()) {
            others.put(o, r);
        }
    }

    private void putForward(Forward f) {
        forwards.put(f.key(), f);
    }

    // ------------------------------------------------------------------ the state after a change

    /** Whether, after {@code c}, some opening still opens exactly this one port to everyone. */
    public boolean holdsSingleAfter(HostPort port, StateStore.Change c) {
        int n = singles.getOrDefault(port, 0);
        Set<Opening> gone = new HashSet<>();
        for (Rule r : c.removeRules()) {
            Opening o = Opening.of(r);
            if (r.single() && r.proto() == port.proto() && r.ports().first() == port.port() && r.equals(rules.get(o)) && gone.add(o)) {
                n--;
            }
        }
        for (Rule r : c.addRules()) {
            Opening o = Opening.of(r);
            if (r.single() && r.proto() == port.proto() && r.ports().first() == port.port() && (!rules.containsKey(o) || gone.remove(o))) {
                n++;
            }
        }
        return n > 0;
    }

    /** After {@code c}: the openings that are not single ports (ranges, source-limited). */
    public List<Rule> othersAfter(StateStore.Change c) {
        LinkedHashMap<Opening, Rule> m = new LinkedHashMap<>(others);
        for (Rule r : c.removeRules()) {
            m.remove(Opening.of(r), r);
        }
        for (Rule r : c.addRules()) {
            if (!r.single()) {
                m.put(Opening.of(r), r);
            }
        }
        return new ArrayList<>(m.values());
    }

    /** After {@code c}: every forward. */
    public List<Forward> forwardsAfter(StateStore.Change c) {
        LinkedHashMap<HostPort, Forward> m = new LinkedHashMap<>(forwards);
        for (Forward f : c.removeForwards()) {
            m.remove(f.key(), f);
        }
        for (Forward f : c.addForwards()) {
            HostPort k = f.key();
            m.remove(k);
            m.put(k, f);
        }
        return new ArrayList<>(m.values());
    }
}
