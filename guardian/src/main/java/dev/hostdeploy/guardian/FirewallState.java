package dev.hostdeploy.guardian;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The desired state: every opening and forward the Manager asked for. Immutable. */
record FirewallState(List<Rule> rules, List<Forward> forwards) {
    static final FirewallState EMPTY = new FirewallState(List.of(), List.of());

    FirewallState {
        rules = List.copyOf(rules);
        forwards = List.copyOf(forwards);
    }

    FirewallState withRule(Rule r) {
        List<Rule> next = new ArrayList<>(rules.size() + 1);
        boolean replaced = false;
        for (Rule x : rules) {
            if (x.sameOpening(r)) {
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
