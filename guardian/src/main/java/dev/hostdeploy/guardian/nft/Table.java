package dev.hostdeploy.guardian.nft;

import static dev.hostdeploy.guardian.nft.NftJson.F;
import static dev.hostdeploy.guardian.nft.NftJson.cmd;
import static dev.hostdeploy.guardian.nft.NftJson.concat;
import static dev.hostdeploy.guardian.nft.NftJson.ct;
import static dev.hostdeploy.guardian.nft.NftJson.lookup;
import static dev.hostdeploy.guardian.nft.NftJson.match;
import static dev.hostdeploy.guardian.nft.NftJson.meta;
import static dev.hostdeploy.guardian.nft.NftJson.payload;
import static dev.hostdeploy.guardian.nft.NftJson.verdict;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The Guardian's one table: its fixed sets and maps, its chains with a fixed number of rules that look
 * ports up in those sets (so opening more ports adds elements, never rules), the batches that build
 * it or change its elements, and the comparison of nft's listing with what it should hold.
 */
public final class Table {
    public static final String FAMILY = "inet";
    /** Single ports open to everyone, for both protocols: {@code tcp . 8080}. */
    static final String OPEN_PORTS = "open_ports";
    static final String PROTECTED_TCP = "protected_tcp";

    static String ranges(Proto p) {
        return p.wire() + "_ranges";
    }

    static String sources(Proto p, boolean v4) {
        return p.wire() + (v4 ? "_src4" : "_src6");
    }

    static String forwarded(Proto p) {
        return "fwd_" + p.wire();
    }

    static String forwardAddresses(Proto p, boolean v4) {
        return forwarded(p) + (v4 ? "_addr4" : "_addr6");
    }

    static String forwardPorts(Proto p) {
        return forwarded(p) + "_port";
    }

    private record SetDef(String name, JsonNode type, String mapType, boolean interval, boolean sized) {
    }

    private final String name;
    private final boolean defaultDrop;
    private final boolean guardDocker;
    private final List<String> dockerInterfaces;
    private final int maxElements;
    private final Map<String, SetDef> sets = new LinkedHashMap<>();

    public Table(String name, boolean defaultDrop, boolean guardDocker, List<String> dockerInterfaces, int maxElements) {
        this.name = name;
        this.defaultDrop = defaultDrop;
        this.guardDocker = guardDocker;
        this.dockerInterfaces = List.copyOf(dockerInterfaces);
        this.maxElements = maxElements;
        set(PROTECTED_TCP, F.textNode("inet_service"), null, false, false);
        // Keyed by protocol and port: a 2-byte key would get the kernel's bitmap set, whose element
        // list makes every add or delete take time in proportion to the ports already open.
        set(OPEN_PORTS, F.arrayNode().add("inet_proto").add("inet_service"), null, false, true);
        for (Proto p : Proto.values()) {
            set(ranges(p), F.textNode("inet_service"), null, true, true);
            set(sources(p, true), F.arrayNode().add("ipv4_addr").add("inet_service"), null, true, true);
            set(sources(p, false), F.arrayNode().add("ipv6_addr").add("inet_service"), null, true, true);
            set(forwarded(p), F.textNode("inet_service"), null, false, true);
            // nft 1.0's JSON parser cannot declare maps with concatenated data, so a forward's target
            // address and port live in two maps keyed by the host port.
            set(forwardAddresses(p, true), F.textNode("inet_service"), "ipv4_addr", false, true);
            set(forwardAddresses(p, false), F.textNode("inet_service"), "ipv6_addr", false, true);
            set(forwardPorts(p), F.textNode("inet_service"), "inet_service", false, true);
        }
    }

    private void set(String set, JsonNode type, String mapType, boolean interval, boolean sized) {
        sets.put(set, new SetDef(set, type, mapType, interval, sized));
    }

    public String name() {
        return name;
    }

    // ---------------------------------------------------------------- batches

    private ObjectNode tableObj() {
        return F.objectNode().put("family", FAMILY).put("name", name);
    }

    /** Replaces the whole table in one transaction: add (so delete cannot fail), delete, then rebuild. */
    public ObjectNode full(Elements e) {
        ArrayNode cmds = F.arrayNode();
        cmds.add(cmd("add", "table", tableObj()));
        cmds.add(cmd("delete", "table", tableObj()));
        cmds.add(cmd("add", "table", tableObj()));
        for (SetDef s : sets.values()) {
            ObjectNode o = F.objectNode().put("family", FAMILY).put("table", name).put("name", s.name);
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
        return NftJson.batch(cmds);
    }

    /** Adds to {@code dels} and {@code adds} the element changes that turn set {@code set} from {@code a} into {@code b}. */
    void diff(String set, Map<String, JsonNode> a, Map<String, JsonNode> b, ArrayNode dels, ArrayNode adds) {
        boolean map = sets.get(set).mapType != null;
        List<JsonNode> gone = new ArrayList<>();
        List<JsonNode> fresh = new ArrayList<>();
        a.forEach((k, v) -> {
            // A map entry whose value changed has a different key text: it is deleted by its
            // key and re-added with the new value in the same transaction.
            if (!b.containsKey(k)) {
                gone.add(map ? v.get(0) : v);
            }
        });
        b.forEach((k, v) -> {
            if (!a.containsKey(k)) {
                fresh.add(v);
            }
        });
        if (!gone.isEmpty()) {
            dels.add(cmd("delete", "element", element(set, gone)));
        }
        if (!fresh.isEmpty()) {
            adds.add(cmd("add", "element", element(set, fresh)));
        }
    }

    ObjectNode element(String set, Iterable<JsonNode> elems) {
        ObjectNode o = F.objectNode().put("family", FAMILY).put("table", name).put("name", set);
        ArrayNode arr = F.arrayNode();
        elems.forEach(arr::add);
        o.set("elem", arr);
        return o;
    }

    // ---------------------------------------------------------------- nft's listing of the table

    /** What differs between {@code want} and the sets in nft's listing of the table (empty: the table is missing). */
    public List<String> compare(Elements want, Optional<JsonNode> listing) {
        List<String> d = new ArrayList<>();
        if (listing.isEmpty()) {
            d.add("table inet " + name + " was missing");
            return d;
        }
        Map<String, Set<String>> actual = new LinkedHashMap<>();
        for (JsonNode item : listing.get().path("nftables")) {
            JsonNode set = item.has("set") ? item.get("set") : item.get("map");
            if (set == null) {
                continue;
            }
            Set<String> keys = new HashSet<>();
            set.path("elem").forEach(e -> keys.add(NftJson.key(e)));
            actual.put(set.path("name").asText(), keys);
        }
        for (String set : want.sets()) {
            Set<String> have = actual.get(set);
            if (have == null) {
                d.add("set " + set + " was missing");
                continue;
            }
            long missing = want.of(set).keySet().stream().filter(k -> !have.contains(k)).count();
            if (missing > 0) {
                d.add("set " + set + ": " + missing + " element(s) missing");
            }
        }
        for (Map.Entry<String, Set<String>> e : actual.entrySet()) {
            Map<String, JsonNode> wanted = want.of(e.getKey());
            long extra = e.getValue().stream().filter(k -> !wanted.containsKey(k)).count();
            if (extra > 0) {
                d.add("set " + e.getKey() + ": " + extra + " unexpected element(s)");
            }
        }
        return d;
    }

    /** The chains and rules of a listing as comparable text: the reference for drift in the rules. */
    public static List<String> rules(JsonNode listing) {
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

    public static int countRules(JsonNode listing) {
        int n = 0;
        for (JsonNode item : listing.path("nftables")) {
            if (item.has("rule")) {
                n++;
            }
        }
        return n;
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
        rule(cmds, "input", match("==", payload("tcp", "dport"), ref(PROTECTED_TCP)), verdict("accept"));
        rule(cmds, "input", match("==", concat(meta("l4proto"), payload("th", "dport")), ref(OPEN_PORTS)), verdict("accept"));
        for (Proto p : Proto.values()) {
            String n = p.wire();
            rule(cmds, "input", match("==", payload(n, "dport"), ref(ranges(p))), verdict("accept"));
            rule(cmds, "input", match("==", concat(payload("ip", "saddr"), payload(n, "dport")), ref(sources(p, true))), verdict("accept"));
            rule(cmds, "input", match("==", concat(payload("ip6", "saddr"), payload(n, "dport")), ref(sources(p, false))), verdict("accept"));
        }

        cmds.add(cmd("add", "chain", chain("prerouting", "nat", "prerouting", -100, "accept")));
        for (Proto p : Proto.values()) {
            String n = p.wire();
            for (boolean v4 : new boolean[] {true, false}) {
                ObjectNode dnat = F.objectNode().put("family", v4 ? "ip" : "ip6");
                dnat.set("addr", lookup(payload(n, "dport"), "@" + forwardAddresses(p, v4)));
                dnat.set("port", lookup(payload(n, "dport"), "@" + forwardPorts(p)));
                rule(cmds, "prerouting",
                        match("==", meta("nfproto"), F.textNode(v4 ? "ipv4" : "ipv6")),
                        match("==", F.objectNode().set("fib", F.objectNode().put("result", "type").set("flags", F.arrayNode().add("daddr"))), F.textNode("local")),
                        F.objectNode().set("dnat", dnat));
            }
        }

        if (guardDocker) {
            // Runs just before Docker's iptables filter chains (priority 0). New connections that
            // Docker DNATed to a published port pass only when that host port is open here.
            cmds.add(cmd("add", "chain", chain("docker_guard", "filter", "forward", -1, "accept")));
            for (Proto p : Proto.values()) {
                JsonNode origDport = ct("proto-dst", "original");
                for (JsonNode m : List.of(
                        match("==", origDport, ref(forwarded(p))),
                        match("==", concat(meta("l4proto"), origDport), ref(OPEN_PORTS)),
                        match("==", origDport, ref(ranges(p))),
                        match("==", concat(ct("ip saddr", "original"), origDport), ref(sources(p, true))),
                        match("==", concat(ct("ip6 saddr", "original"), origDport), ref(sources(p, false))))) {
                    rule(cmds, "docker_guard", match("in", ct("state", null), F.textNode("new")),
                            match("in", ct("status", null), F.textNode("dnat")),
                            match("==", meta("l4proto"), F.textNode(p.wire())), m, verdict("accept"));
                }
            }
            for (String iface : dockerInterfaces) {
                rule(cmds, "docker_guard", match("in", ct("state", null), F.textNode("new")),
                        match("in", ct("status", null), F.textNode("dnat")),
                        match("==", meta("oifname"), F.textNode(iface)), verdict("drop"));
            }
        }
    }

    private static JsonNode ref(String set) {
        return F.textNode("@" + set);
    }

    private ObjectNode chain(String chain, String type, String hook, int prio, String policy) {
        return F.objectNode().put("family", FAMILY).put("table", name).put("name", chain)
                .put("type", type).put("hook", hook).put("prio", prio).put("policy", policy);
    }

    private void rule(ArrayNode cmds, String chain, JsonNode... expr) {
        ObjectNode r = F.objectNode().put("family", FAMILY).put("table", name).put("chain", chain);
        ArrayNode a = F.arrayNode();
        for (JsonNode x : expr) {
            a.add(x);
        }
        r.set("expr", a);
        cmds.add(cmd("add", "rule", r));
    }
}
