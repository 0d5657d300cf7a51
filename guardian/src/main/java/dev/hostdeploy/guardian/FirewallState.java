package dev.hostdeploy.guardian;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The desired state: every opening and forward the Manager asked for. Immutable. */
record FirewallState(List<Rule> rules, List<Forward> forwards) {
    static final FirewallState EMPTY = new FirewallState(List.of(), List.of());

    FirewallState {
        rules = List.copyOf(rules);
        forwards = List.copyOf(forwards);
    }

    /** This state plus {@code r}, replacing the same opening in place; this very state if it holds {@code r}. */
    FirewallState withRule(Rule r) {
        List<Rule> next = new ArrayList<>(rules.size() + 1);
        boolean replaced = false;
        for (Rule x : rules) {
            if (x.sameOpening(r)) {
                if (x.equals(r)) {
                    return this;
                }
                next.add(r);
                replaced = true;
            } else {
                next.add(x);
            }
        }
        if (!replaced) {
            next.add(r);
        }
        return new FirewallState(next, forwards);
    }

    /** Adds rules in order as {@link #withRule} would one at a time, in time proportional to their number. */
    FirewallState withRules(List<Rule> add) {
        record Opening(Proto proto, PortRange ports, Cidr source, Owner owner) {
        }
        Map<Opening, Rule> byOpening = new LinkedHashMap<>();
        for (Rule x : rules) {
            byOpening.put(new Opening(x.proto(), x.ports(), x.source(), x.owner()), x);
        }
        for (Rule r : add) {
            byOpening.put(new Opening(r.proto(), r.ports(), r.source(), r.owner()), r); // replaces in place
        }
        return new FirewallState(new ArrayList<>(byOpening.values()), forwards);
    }

    FirewallState withoutRules(Predicate<Rule> drop) {
        return new FirewallState(rules.stream().filter(drop.negate()).toList(), forwards);
    }

    FirewallState withForward(Forward f) {
        List<Forward> next = new ArrayList<>(forwards);
        next.removeIf(f::sameHostPort);
        next.add(f);
        return new FirewallState(rules, next);
    }

    FirewallState withoutForwards(Predicate<Forward> drop) {
        return new FirewallState(rules, forwards.stream().filter(drop.negate()).toList());
    }
}
