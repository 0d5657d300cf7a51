package dev.hostdeploy.guardian.state;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The desired state: every opening and forward the Manager asked for. Immutable. */
public record FirewallState(List<Rule> rules, List<Forward> forwards) {
    public static final FirewallState EMPTY = new FirewallState(List.of(), List.of());

    public FirewallState {
        rules = List.copyOf(rules);
        forwards = List.copyOf(forwards);
    }

    /** This state plus {@code r}, replacing the same opening in place; this very state if it holds {@code r}. */
    public FirewallState withRule(Rule r) {
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
    public FirewallState withRules(List<Rule> add) {
        Map<Opening, Rule> byOpening = new LinkedHashMap<>();
        for (Rule x : rules) {
            byOpening.put(Opening.of(x), x);
        }
        for (Rule r : add) {
            byOpening.put(Opening.of(r), r); // replaces in place
        }
        return new FirewallState(new ArrayList<>(byOpening.values()), forwards);
    }

    public FirewallState withoutRules(Predicate<Rule> drop) {
        return new FirewallState(rules.stream().filter(drop.negate()).toList(), forwards);
    }

    public FirewallState withForward(Forward f) {
        List<Forward> next = new ArrayList<>(forwards);
        next.removeIf(f::sameHostPort);
        next.add(f);
        return new FirewallState(rules, next);
    }

    public FirewallState withoutForwards(Predicate<Forward> drop) {
        return new FirewallState(rules, forwards.stream().filter(drop.negate()).toList());
    }
}
