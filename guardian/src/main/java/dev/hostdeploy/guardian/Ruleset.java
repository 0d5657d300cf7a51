package dev.hostdeploy.guardian;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Builds nft JSON for the Guardian's table from validated values only. The chains hold a fixed set of
 * rules that look ports up in sets and maps, so opening more ports adds set elements, never rules.
 */
final class Ruleset {
    static final String FAMILY = "inet";
    /** Single ports open to everyone, for both protocols: {@code tcp . 8080}. */
    static final String OPEN_PORTS = "open_ports";
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Element JSON per set, keyed by the element's canonical text (see {@link #key}). */
    static final class Elements {
        final Map<String, Map<String, JsonNode>> bySet = new TreeMap<>();

        void add(String set, JsonNode elem) {
            bySet.computeIfAbsent(set, k -> new LinkedHashMap<>()).put(key(elem), elem);
        }

        void remove(String set, String key) {
            Map<String, JsonNode> m = bySet.get(set);
            if (m != null) {
                m.remove(key);
            }
        }

        void replace(String set, Map<String, JsonNode> elems) {
            bySet.put(set, new LinkedHashMap<>(elems));
        }

        Map<String, JsonNode> of(String set) {
            return bySet.getOrDefault(set, Map.of());
        }

        int count() {
            return bySet.values().stream().mapToInt(Map::size).sum();
        }
    }

    private record SetDef(String name, JsonNode type, String mapType, boolean interval, boolean sized) {
    }

    private final String table;
    private final boolean defaultDrop;
    private final boolean guardDocker;
    private final List<String> dockerInterfaces;
    private final int maxElements;
    private final List<SetDef> sets = new ArrayList<>();

    Ruleset(String table, boolean defaultDrop, boolean guardDocker, List<String> dockerInterfaces, int maxElements) {
        this.table = table;
        this.defaultDrop = defaultDrop;
        this.guardDocker = guardDocker;
        this.dockerInterfaces = List.copyOf(dockerInterfaces);
        this.maxElements = maxElements;
        sets.add(new SetDef("protected_tcp", F.textNode("inet_service"), null, false, false));
        // Keyed by protocol and port: a 2-byte key would get the kernel's bitmap set, whose element
        // list makes every add or delete take time in proportion to the ports already open.
        sets.add(new SetDef(OPEN_PORTS, F.arrayNode().add("inet_proto").add("inet_service"), null, false, true));
        for (Proto p : Proto.values()) {
            String n = p.wire();
            sets.add(new SetDef(n + "_ranges", F.textNode("inet_service"), null, true, true));
            sets.add(new SetDef(n + "_src4", F.arrayNode().add("ipv4_addr").add("inet_service"), null, true, true));
            sets.add(new SetDef(n + "_src6", F.arrayNode().add("ipv6_addr").add("inet_service"), null, true, true));
            sets.add(new SetDef("fwd_" + n, F.textNode("inet_service"), null, false, true));
            // nft 1.0's JSON parser cannot declare maps with concatenated data, so a forward's target
            // address and port live in two maps keyed by the host port.
            sets.add(new SetDef("fwd_" + n + "_addr4", F.textNode("inet_service"), "ipv4_addr", false, true));
            sets.add(new SetDef("fwd_" + n + "_addr6", F.textNode("inet_service"), "ipv6_addr", false, true));
            sets.add(new SetDef("fwd_" + n + "_port", F.textNode("inet_service"), "inet_service", false, true));
        }
    }

    String table() {
        return table;
    }

    // ---------------------------------------------------------------- elements from desired state

    Elements elements(FirewallState state, List<Integer> protectedTcp) {
        Elements e = new Elements();
        new TreeSet<>(protectedTcp).forEach(p -> e.add("protected_tcp", F.numberNode(p)));
        for (Proto p : Proto.values()) {
            for (Group g : Group.values()) {
                fill(e, state.rules(), state.forwards(), p, g);
            }
        }
        return e;
    }

    /**
     * The kinds of elements, each in its own sets and computed from its own rules only, so a change
     * recomputes just the sets it touches. Single ports open to everyone (the common case, and the
     * many) live in {@link #OPEN_PORTS}, not in an interval set: nft 1.0 reads every element of a
     * table's interval sets before it changes any set, which would make each open cost time in
     * proportion to the ports already open.
     */
    private enum Group {
        PORTS, RANGES, SOURCES, FORWARDS
    }

    private static Group group(Rule r) {
        if (r.source() != null) {
            return Group.SOURCES;
        }
        return r.ports().first() == r.ports().last() ? Group.PORTS : Group.RANGES;
    }

    private List<String> setNames(Proto p, Group g) {
        String n = p.wire();
        return switch (g) {
            case PORTS -> List.of(OPEN_PORTS);
            case RANGES -> List.of(n + "_ranges");
            case SOURCES -> List.of(n + "_src4", n + "_src6");
            case FORWARDS -> List.of("fwd_" + n, "fwd_" + n + "_addr4", "fwd_" + n + "_addr6", "fwd_" + n + "_port");
        };
    }

    /** Fills the sets of group {@code g} of protocol {@code p}; other rules and forwards are skipped. */
    private void fill(Elements e, Collection<Rule> rules, Collection<Forward> forwards, Proto p, Group g) {
        switch (g) {
            case PORTS -> {
                TreeSet<Integer> ports = new TreeSet<>();
                for (Rule r : rules) {
                    if (r.proto() == p && group(r) == Group.PORTS) {
                        ports.add(r.ports().first());
                    }
                }
                ports.forEach(port -> e.add(OPEN_PORTS, openPort(p, port)));
            }
            case RANGES -> merge(rules.stream().filter(r -> r.proto() == p && group(r) == Group.RANGES)
                    .map(Rule::ports).toList()).forEach(r -> e.add(p.wire() + "_ranges", port(r)));
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
                        ArrayNode concat = F.arrayNode().add(cidr(c)).add(port(r));
                        e.add(p.wire() + (c.v4() ? "_src4" : "_src6"), F.objectNode().set("concat", concat));
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
                    String n = "fwd_" + p.wire();
                    e.add(n, F.numberNode(f.hostPort()));
                    e.add(n + (f.target().v4() ? "_addr4" : "_addr6"),
                            F.arrayNode().add(f.hostPort()).add(f.target().toString()));
                    e.add(n + "_port", F.arrayNode().add(f.hostPort()).add(f.targetPort()));
                }
            }
        }
    }

    /** An element-level change to the table, and how to bring our record of the kernel up to date after it. */
    static final class Update {
        final ObjectNode batch;
        private final List<Runnable> record;

        private Update(ObjectNode batch, List<Runnable> record) {
            this.batch = batch;
            this.record = record;
        }

        boolean isEmpty() {
            return batch.get("nftables").isEmpty();
        }

        /** Call once nft applied {@link #batch}: makes {@code applied} match the kernel again. */
        void applied() {
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
    Update update(Elements applied, Desired desired, StateStore.Change change) {
        ArrayNode dels = F.arrayNode();
        ArrayNode adds = F.arrayNode();
        List<Runnable> record = new ArrayList<>();
        Map<Proto, TreeSet<Integer>> singles = new TreeMap<>();
        TreeSet<String> groups = new TreeSet<>();
        List<Rule> touched = new ArrayList<>(change.addRules());
        touched.addAll(change.removeRules());
        for (Rule r : touched) {
            if (group(r) == Group.PORTS) {
                singles.computeIfAbsent(r.proto(), k -> new TreeSet<>()).add(r.ports().first());
            } else {
                groups.add(r.proto() + ":" + group(r));
            }
        }
        List<Forward> fwds = new ArrayList<>(change.addForwards());
        fwds.addAll(change.removeForwards());
        fwds.forEach(f -> groups.add(f.proto() + ":" + Group.FORWARDS));

        for (Map.Entry<Proto, TreeSet<Integer>> en : singles.entrySet()) {
            Proto p = en.getKey();
            String set = OPEN_PORTS;
            List<JsonNode> gone = new ArrayList<>();
            List<JsonNode> fresh = new ArrayList<>();
            for (int port : en.getValue()) {
                JsonNode elem = openPort(p, port);
                String k = key(elem);
                boolean have = applied.of(set).containsKey(k);
                boolean held = desired.holdsSingleAfter(p, port, change);
                if (have && !held) {
                    gone.add(elem);
                    record.add(() -> applied.remove(set, k));
                } else if (!have && held) {
                    fresh.add(elem);
                    record.add(() -> applied.add(set, elem));
                }
            }
            if (!gone.isEmpty()) {
                dels.add(cmd("delete", "element", element(set, gone)));
            }
            if (!fresh.isEmpty()) {
                adds.add(cmd("add", "element", element(set, fresh)));
            }
        }
        List<Rule> others = groups.stream().anyMatch(g -> !g.endsWith(":" + Group.FORWARDS))
                ? desired.othersAfter(change) : List.of();
        List<Forward> forwards = groups.stream().anyMatch(g -> g.endsWith(":" + Group.FORWARDS))
                ? desired.forwardsAfter(change) : List.of();
        for (String g : groups) {
            Proto p = Proto.valueOf(g.substring(0, g.indexOf(':')));
            Group gr = Group.valueOf(g.substring(g.indexOf(':') + 1));
            Elements want = new Elements();
            fill(want, others, forwards, p, gr);
            for (String name : setNames(p, gr)) {
                SetDef s = sets.stream().filter(d -> d.name.equals(name)).findFirst().orElseThrow();
                diff(s, applied.of(name), want.of(name), dels, adds);
                record.add(() -> applied.replace(name, want.of(name)));
            }
        }
        ArrayNode cmds = F.arrayNode();
        cmds.addAll(dels); // deletes first, so merged ranges can be re-added
        cmds.addAll(adds);
        return new Update(batch(cmds), record);
    }

    private static JsonNode openPort(Proto p, int port) {
        return F.objectNode().set("concat", F.arrayNode().add(p.wire()).add(port));
    }

    static List<PortRange> merge(List<PortRange> ranges) {
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
    static List<PortRange> subtract(List<PortRange> a, List<PortRange> b) {
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

    private static JsonNode port(PortRange r) {
        return r.first() == r.last() ? F.numberNode(r.first())
                : F.objectNode().set("range", F.arrayNode().add(r.first()).add(r.last()));
    }

    private static JsonNode cidr(Cidr c) {
        if (c.prefix() == c.address().bits()) {
            return F.textNode(c.address().toString());
        }
        ObjectNode p = F.objectNode().put("addr", c.address().toString()).put("len", c.prefix());
        return F.objectNode().set("prefix", p);
    }

    /** Canonical text of an element as we write it or as nft lists it, so the two can be compared. */
    static String key(JsonNode n) {
        if (n == null || n.isNull()) {
            return "";
        }
        if (n.isNumber()) {
            return Long.toString(n.longValue());
        }
        if (n.isTextual()) {
            IpAddress a = IpAddress.tryParse(n.textValue());
            return a == null ? n.textValue() : a.toString();
        }
        if (n.isArray()) {
            List<String> parts = new ArrayList<>();
            n.forEach(x -> parts.add(key(x)));
            return String.join(" : ", parts);
        }
        if (n.has("elem")) {
            return key(n.get("elem").get("val"));
        }
        if (n.has("range")) {
            String a = key(n.get("range").get(0));
            String b = key(n.get("range").get(1));
            return a.equals(b) ? a : a + "-" + b;
        }
        if (n.has("prefix")) {
            JsonNode p = n.get("prefix");
            IpAddress a = IpAddress.tryParse(p.path("addr").asText());
            int len = p.path("len").asInt();
            if (a != null && len == a.bits()) {
                return a.toString();
            }
            return (a == null ? p.path("addr").asText() : a.toString()) + "/" + len;
        }
        if (n.has("concat")) {
            List<String> parts = new ArrayList<>();
            n.get("concat").forEach(x -> parts.add(key(x)));
            return String.join(" . ", parts);
        }
        return n.toString();
    }

    // ---------------------------------------------------------------- batches

    private ObjectNode tableObj() {
        return F.objectNode().put("family", FAMILY).put("name", table);
    }

    private static ObjectNode cmd(String verb, String kind, JsonNode obj) {
        ObjectNode inner = F.objectNode();
        inner.set(kind, obj);
        ObjectNode c = F.objectNode();
        c.set(verb, inner);
        return c;
    }

    private static ObjectNode batch(ArrayNode cmds) {
        ObjectNode root = F.objectNode();
        root.set("nftables", cmds);
        return root;
    }

    /** Replaces the whole table in one transaction: add (so delete cannot fail), delete, then rebuild. */
    ObjectNode full(Elements e) {
        ArrayNode cmds = F.arrayNode();
        cmds.add(cmd("add", "table", tableObj()));
        cmds.add(cmd("delete", "table", tableObj()));
        cmds.add(cmd("add", "table", tableObj()));
        for (SetDef s : sets) {
            ObjectNode o = F.objectNode().put("family", FAMILY).put("table", table).put("name", s.name);
            o.set("type", s.type);
            if (s.mapType != null) {
                o.put("map", s.mapType);
            }
            if (s.interval) {
                o.set("flags", F.arrayNode().add("interval"));
            }
            if (s.sized) {
                o.put("size", maxElements);
            }
            cmds.add(cmd("add", s.mapType == null ? "set" : "map", o));
            Map<String, JsonNode> elems = e.of(s.name);
            if (!elems.isEmpty()) {
                cmds.add(cmd("add", "element", element(s.name, elems.values())));
            }
        }
        chains(cmds);
        return batch(cmds);
    }

    /** Only the element changes between two states; deletes go first so merged ranges can be re-added. */
    ObjectNode delta(Elements from, Elements to) {
        ArrayNode dels = F.arrayNode();
        ArrayNode adds = F.arrayNode();
        for (SetDef s : sets) {
            diff(s, from.of(s.name), to.of(s.name), dels, adds);
        }
        ArrayNode cmds = F.arrayNode();
        cmds.addAll(dels);
        cmds.addAll(adds);
        return batch(cmds);
    }

    private void diff(SetDef s, Map<String, JsonNode> a, Map<String, JsonNode> b, ArrayNode dels, ArrayNode adds) {
        List<JsonNode> gone = new ArrayList<>();
        List<JsonNode> fresh = new ArrayList<>();
        a.forEach((k, v) -> {
            // A map entry whose value changed has a different key text: it is deleted by its
            // key and re-added with the new value in the same transaction.
            if (!b.containsKey(k)) {
                gone.add(s.mapType == null ? v : v.get(0));
            }
        });
        b.forEach((k, v) -> {
            if (!a.containsKey(k)) {
                fresh.add(v);
            }
        });
        if (!gone.isEmpty()) {
            dels.add(cmd("delete", "element", element(s.name, gone)));
        }
        if (!fresh.isEmpty()) {
            adds.add(cmd("add", "element", element(s.name, fresh)));
        }
    }

    private ObjectNode element(String set, Iterable<JsonNode> elems) {
        ObjectNode o = F.objectNode().put("family", FAMILY).put("table", table).put("name", set);
        ArrayNode arr = F.arrayNode();
        elems.forEach(arr::add);
        o.set("elem", arr);
        return o;
    }

    // ---------------------------------------------------------------- chains and their fixed rules

    private void chains(ArrayNode cmds) {
        cmds.add(cmd("add", "chain", chain("input", "filter", "input", 0, defaultDrop ? "drop" : "accept")));
        rule(cmds, "input", match("in", ct("state", null), F.arrayNode().add("established").add("related")), verdict("accept"));
        rule(cmds, "input", match("==", meta("iifname"), F.textNode("lo")), verdict("accept"));
        if (defaultDrop) {
            rule(cmds, "input", match("in", ct("state", null), F.textNode("invalid")), verdict("drop"));
            // Without ICMP, IPv6 neighbour discovery and path MTU discovery break; DHCP replies are not tracked.
            rule(cmds, "input", match("==", meta("l4proto"), F.objectNode().set("set", F.arrayNode().add("icmp").add("ipv6-icmp"))), verdict("accept"));
            rule(cmds, "input", match("==", payload("udp", "sport"), F.numberNode(67)), match("==", payload("udp", "dport"), F.numberNode(68)), verdict("accept"));
        }
        rule(cmds, "input", match("==", payload("tcp", "dport"), F.textNode("@protected_tcp")), verdict("accept"));
        rule(cmds, "input", match("==", concat(meta("l4proto"), payload("th", "dport")), F.textNode("@" + OPEN_PORTS)), verdict("accept"));
        for (Proto p : Proto.values()) {
            String n = p.wire();
            rule(cmds, "input", match("==", payload(n, "dport"), F.textNode("@" + n + "_ranges")), verdict("accept"));
            rule(cmds, "input", match("==", concat(payload("ip", "saddr"), payload(n, "dport")), F.textNode("@" + n + "_src4")), verdict("accept"));
            rule(cmds, "input", match("==", concat(payload("ip6", "saddr"), payload(n, "dport")), F.textNode("@" + n + "_src6")), verdict("accept"));
        }

        cmds.add(cmd("add", "chain", chain("prerouting", "nat", "prerouting", -100, "accept")));
        for (Proto p : Proto.values()) {
            String n = p.wire();
            for (String fam : List.of("ip", "ip6")) {
                ObjectNode dnat = F.objectNode().put("family", fam);
                dnat.set("addr", lookup(payload(n, "dport"), "@fwd_" + n + (fam.equals("ip") ? "_addr4" : "_addr6")));
                dnat.set("port", lookup(payload(n, "dport"), "@fwd_" + n + "_port"));
                rule(cmds, "prerouting",
                        match("==", meta("nfproto"), F.textNode(fam.equals("ip") ? "ipv4" : "ipv6")),
                        match("==", F.objectNode().set("fib", F.objectNode().put("result", "type").set("flags", F.arrayNode().add("daddr"))), F.textNode("local")),
                        F.objectNode().set("dnat", dnat));
            }
        }

        if (guardDocker) {
            // Runs just before Docker's iptables filter chains (priority 0). New connections that
            // Docker DNATed to a published port pass only when that host port is open here.
            cmds.add(cmd("add", "chain", chain("docker_guard", "filter", "forward", -1, "accept")));
            for (Proto p : Proto.values()) {
                String n = p.wire();
                JsonNode origDport = ct("proto-dst", "original");
                for (JsonNode m : List.of(
                        match("==", origDport, F.textNode("@fwd_" + n)),
                        match("==", concat(meta("l4proto"), origDport), F.textNode("@" + OPEN_PORTS)),
                        match("==", origDport, F.textNode("@" + n + "_ranges")),
                        match("==", concat(ct("ip saddr", "original"), origDport), F.textNode("@" + n + "_src4")),
                        match("==", concat(ct("ip6 saddr", "original"), origDport), F.textNode("@" + n + "_src6")))) {
                    rule(cmds, "docker_guard", match("in", ct("state", null), F.textNode("new")),
                            match("in", ct("status", null), F.textNode("dnat")),
                            match("==", meta("l4proto"), F.textNode(n)), m, verdict("accept"));
                }
            }
            for (String iface : dockerInterfaces) {
                rule(cmds, "docker_guard", match("in", ct("state", null), F.textNode("new")),
                        match("in", ct("status", null), F.textNode("dnat")),
                        match("==", meta("oifname"), F.textNode(iface)), verdict("drop"));
            }
        }
    }

    private ObjectNode chain(String name, String type, String hook, int prio, String policy) {
        return F.objectNode().put("family", FAMILY).put("table", table).put("name", name)
                .put("type", type).put("hook", hook).put("prio", prio).put("policy", policy);
    }

    private void rule(ArrayNode cmds, String chain, JsonNode... expr) {
        ObjectNode r = F.objectNode().put("family", FAMILY).put("table", table).put("chain", chain);
        ArrayNode a = F.arrayNode();
        for (JsonNode x : expr) {
            a.add(x);
        }
        r.set("expr", a);
        cmds.add(cmd("add", "rule", r));
    }

    private static JsonNode match(String op, JsonNode left, JsonNode right) {
        ObjectNode m = F.objectNode().put("op", op);
        m.set("left", left);
        m.set("right", right);
        return F.objectNode().set("match", m);
    }

    private static JsonNode payload(String proto, String field) {
        return F.objectNode().set("payload", F.objectNode().put("protocol", proto).put("field", field));
    }

    private static JsonNode meta(String key) {
        return F.objectNode().set("meta", F.objectNode().put("key", key));
    }

    private static JsonNode ct(String key, String dir) {
        ObjectNode o = F.objectNode().put("key", key);
        if (dir != null) {
            o.put("dir", dir);
        }
        return F.objectNode().set("ct", o);
    }

    private static JsonNode concat(JsonNode... parts) {
        ArrayNode a = F.arrayNode();
        for (JsonNode p : parts) {
            a.add(p);
        }
        return F.objectNode().set("concat", a);
    }

    private static JsonNode lookup(JsonNode key, String map) {
        ObjectNode m = F.objectNode();
        m.set("key", key);
        m.put("data", map);
        return F.objectNode().set("map", m);
    }

    private static JsonNode verdict(String v) {
        return F.objectNode().putNull(v);
    }
}
