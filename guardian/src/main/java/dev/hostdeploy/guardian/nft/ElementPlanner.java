package dev.hostdeploy.guardian.nft;

import static dev.hostdeploy.guardian.nft.NftJson.F;
import static dev.hostdeploy.guardian.nft.NftJson.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.guardian.state.Desired;
import dev.hostdeploy.guardian.state.FirewallState;
import dev.hostdeploy.guardian.state.Forward;
import dev.hostdeploy.guardian.state.HostPort;
import dev.hostdeploy.guardian.state.Rule;
import dev.hostdeploy.guardian.state.StateStore;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.firewall.PortRange;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which set elements hold a desired state, and the element changes that carry one change into the
 * kernel: only the sets the change touches are looked at, and single ports one by one, so a change
 * does not cost more as ports pile up.
 */
public final class ElementPlanner {
    /**
     * The kinds of elements, each in its own sets and computed from its own rules only, so a change
     * recomputes just the sets it touches. Single ports open to everyone (the common case, and the
     * many) live in {@link Table#OPEN_PORTS}, not in an interval set: nft 1.0 reads every element of a
     * table's interval sets before it changes any set, which would make each open cost time in
     * proportion to the ports already open.
     */
    enum Group {
        PORTS, RANGES, SOURCES, FORWARDS
    }

    /** The sets of one group of one protocol: the unit a change recomputes. */
    record SetGroup(Proto proto, Group group) implements Comparable<SetGroup> {
        static SetGroup of(Rule r) {
            Group g = r.source() != null ? Group.SOURCES : r.single() ? Group.PORTS : Group.RANGES;
            return new SetGroup(r.proto(), g);
        }

        List<String> sets() {
            Proto p = proto;
            return switch (group) {
                case PORTS -> List.of(Table.OPEN_PORTS);
                case RANGES -> List.of(Table.ranges(p));
                case SOURCES -> List.of(Table.sources(p, true), Table.sources(p, false));
                case FORWARDS -> List.of(Table.forwarded(p), Table.forwardAddresses(p, true),
                        Table.forwardAddresses(p, false), Table.forwardPorts(p));
            };
        }

        @Override
        public int compareTo(SetGroup o) {
            return proto != o.proto ? proto.compareTo(o.proto) : group.compareTo(o.group);
        }
    }

    private final Table table;

    public ElementPlanner(Table table) {
        this.table = table;
    }

    /** Every element of a desired state, with the protected TCP ports. */
    public Elements elements(FirewallState state, List<Integer> protectedTcp) {
        Elements e = new Elements();
        new TreeSet<>(protectedTcp).forEach(p -> e.add(Table.PROTECTED_TCP, F.numberNode(p)));
        for (Proto p : Proto.values()) {
            for (Group g : Group.values()) {
                fill(e, state.rules(), state.forwards(), new SetGroup(p, g));
            }
        }
        return e;
    }

    /** Fills the sets of one group; other rules and forwards are skipped. */
    private static void fill(Elements e, Collection<Rule> rules, Collection<Forward> forwards, SetGroup sg) {
        Proto p = sg.proto();
        switch (sg.group()) {
            case PORTS -> {
                TreeSet<Integer> ports = new TreeSet<>();
                for (Rule r : rules) {
                    if (r.proto() == p && r.single()) {
                        ports.add(r.ports().first());
                    }
                }
                ports.forEach(port -> e.add(Table.OPEN_PORTS, openPort(new HostPort(p, port))));
            }
            case RANGES -> merge(rules.stream().filter(r -> SetGroup.of(r).equals(sg)).map(Rule::ports).toList())
                    .forEach(r -> e.add(Table.ranges(p), NftJson.port(r)));
            case SOURCES -> {
                // CIDRs are either nested or disjoint. Ports a containing network already gets are left
                // out, so no two elements overlap: the kernel's concatenated interval sets refuse
                // overlapping elements.
                Map<Cidr, List<PortRange>> bySource = new TreeMap<>();
                for (Rule r : rules) {
                    if (r.proto() == p && r.source() != null) {
                        bySource.computeIfAbsent(r.source(), k -> new ArrayList<>()).add(r.ports());
                    }
                }
                for (Map.Entry<Cidr, List<PortRange>> en : bySource.entrySet()) {
                    Cidr c = en.getKey();
                    List<PortRange> covered = new ArrayList<>();
                    for (Map.Entry<Cidr, List<PortRange>> other : bySource.entrySet()) {
                        if (!other.getKey().equals(c) && other.getKey().contains(c)) {
                            covered.addAll(other.getValue());
                        }
                    }
                    for (PortRange r : subtract(merge(en.getValue()), merge(covered))) {
                        ArrayNode concat = F.arrayNode().add(NftJson.cidr(c)).add(NftJson.port(r));
                        e.add(Table.sources(p, c.v4()), F.objectNode().set("concat", concat));
                    }
                }
            }
            case FORWARDS -> {
                List<Forward> fwds = new ArrayList<>();
                for (Forward f : forwards) {
                    if (f.proto() == p) {
                        fwds.add(f);
                    }
                }
                fwds.sort(Comparator.comparingInt(Forward::hostPort));
                for (Forward f : fwds) {
                    e.add(Table.forwarded(p), F.numberNode(f.hostPort()));
                    e.add(Table.forwardAddresses(p, f.target().v4()),
                            F.arrayNode().add(f.hostPort()).add(f.target().toString()));
                    e.add(Table.forwardPorts(p), F.arrayNode().add(f.hostPort()).add(f.targetPort()));
                }
            }
        }
    }

    /** An element-level change to the table, and how to bring our record of the kernel up to date after it. */
    public static final class Update {
        private final ObjectNode batch;
        private final List<Runnable> record;

        private Update(ObjectNode batch, List<Runnable> record) {
            this.batch = batch;
            this.record = record;
        }

        public ObjectNode batch() {
            return batch;
        }

        public boolean isEmpty() {
            return batch.get("nftables").isEmpty();
        }

        /** Call once nft applied {@link #batch}: makes {@code applied} match the kernel again. */
        public void applied() {
            record.forEach(Runnable::run);
        }
    }

    /**
     * The element changes that turn the kernel from {@code applied} into the desired state after
     * {@code change}, where {@code applied} was built from {@code desired} before it. Only the sets the
     * change touches are looked at, and single ports one by one through the index, so the work does not
     * grow with the single ports already open (ranges, source-limited openings and forwards, which are
     * few, are recomputed per set they touch).
     */
    public Update update(Elements applied, Desired desired, StateStore.Change change) {
        ArrayNode dels = F.arrayNode();
        ArrayNode adds = F.arrayNode();
        List<Runnable> record = new ArrayList<>();
        TreeSet<HostPort> singles = new TreeSet<>(Comparator.comparing(HostPort::proto).thenComparingInt(HostPort::port));
        TreeSet<SetGroup> groups = new TreeSet<>();
        List<Rule> touched = new ArrayList<>(change.addRules());
        touched.addAll(change.removeRules());
        for (Rule r : touched) {
            if (r.single()) {
                singles.add(new HostPort(r.proto(), r.ports().first()));
            } else {
                groups.add(SetGroup.of(r));
            }
        }
        List<Forward> fwds = new ArrayList<>(change.addForwards());
        fwds.addAll(change.removeForwards());
        fwds.forEach(f -> groups.add(new SetGroup(f.proto(), Group.FORWARDS)));

        String set = Table.OPEN_PORTS;
        List<JsonNode> gone = new ArrayList<>();
        List<JsonNode> fresh = new ArrayList<>();
        for (HostPort port : singles) {
            JsonNode elem = openPort(port);
            String k = NftJson.key(elem);
            boolean have = applied.of(set).containsKey(k);
            boolean held = desired.holdsSingleAfter(port, change);
            if (have && !held) {
                gone.add(elem);
                record.add(() -> applied.remove(set, k));
            } else if (!have && held) {
                fresh.add(elem);
                record.add(() -> applied.add(set, elem));
            }
        }
        if (!gone.isEmpty()) {
            dels.add(cmd("delete", "element", table.element(set, gone)));
        }
        if (!fresh.isEmpty()) {
            adds.add(cmd("add", "element", table.element(set, fresh)));
        }
        List<Rule> others = groups.stream().anyMatch(g -> g.group() != Group.FORWARDS)
                ? desired.othersAfter(change) : List.of();
        List<Forward> forwards = groups.stream().anyMatch(g -> g.group() == Group.FORWARDS)
                ? desired.forwardsAfter(change) : List.of();
        for (SetGroup g : groups) {
            Elements want = new Elements();
            fill(want, others, forwards, g);
            for (String name : g.sets()) {
                table.diff(name, applied.of(name), want.of(name), dels, adds);
                record.add(() -> applied.replace(name, want.of(name)));
            }
        }
        ArrayNode cmds = F.arrayNode();
        cmds.addAll(dels); // deletes first, so merged ranges can be re-added
        cmds.addAll(adds);
        return new Update(NftJson.batch(cmds), record);
    }

    private static JsonNode openPort(HostPort port) {
        return F.objectNode().set("concat", F.arrayNode().add(port.proto().wire()).add(port.port()));
    }

    /** Sorted, with overlapping and adjacent ranges joined. */
    public static List<PortRange> merge(List<PortRange> ranges) {
        List<PortRange> sorted = new ArrayList<>(ranges);
        sorted.sort(null);
        List<PortRange> out = new ArrayList<>();
        for (PortRange r : sorted) {
            if (!out.isEmpty() && out.get(out.size() - 1).last() + 1 >= r.first()) {
                PortRange prev = out.remove(out.size() - 1);
                out.add(new PortRange(prev.first(), Math.max(prev.last(), r.last())));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** {@code a} minus {@code b}; both merged (sorted, disjoint). */
    public static List<PortRange> subtract(List<PortRange> a, List<PortRange> b) {
        List<PortRange> out = new ArrayList<>();
        for (PortRange r : a) {
            int from = r.first();
            for (PortRange c : b) {
                if (c.last() < from || c.first() > r.last()) {
                    continue;
                }
                if (c.first() > from) {
                    out.add(new PortRange(from, c.first() - 1));
                }
                from = c.last() + 1;
                if (from > r.last()) {
                    break;
                }
            }
            if (from <= r.last()) {
                out.add(new PortRange(from, r.last()));
            }
        }
        return out;
    }
}
