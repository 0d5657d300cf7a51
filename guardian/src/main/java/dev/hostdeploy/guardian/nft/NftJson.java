package dev.hostdeploy.guardian.nft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.firewall.IpAddress;
import dev.hostdeploy.schema.firewall.PortRange;
import java.util.ArrayList;
import java.util.List;

/**
 * The pieces of nft's JSON syntax ({@code libnftables-json(5)}) the Guardian writes, built from
 * validated values only, and the canonical text of an element so what we write and what nft lists
 * can be compared.
 */
final class NftJson {
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    private NftJson() {
    }

    /** {@code {"<verb>": {"<kind>": obj}}}, e.g. {@code {"add":{"element":{...}}}}. */
    static ObjectNode cmd(String verb, String kind, JsonNode obj) {
        ObjectNode inner = F.objectNode();
        inner.set(kind, obj);
        ObjectNode c = F.objectNode();
        c.set(verb, inner);
        return c;
    }

    static ObjectNode batch(ArrayNode cmds) {
        ObjectNode root = F.objectNode();
        root.set("nftables", cmds);
        return root;
    }

    static JsonNode port(PortRange r) {
        return r.first() == r.last() ? F.numberNode(r.first())
                : F.objectNode().set("range", F.arrayNode().add(r.first()).add(r.last()));
    }

    static JsonNode cidr(Cidr c) {
        if (c.prefix() == c.address().bits()) {
            return F.textNode(c.address().toString());
        }
        ObjectNode p = F.objectNode().put("addr", c.address().toString()).put("len", c.prefix());
        return F.objectNode().set("prefix", p);
    }

    static JsonNode match(String op, JsonNode left, JsonNode right) {
        ObjectNode m = F.objectNode().put("op", op);
        m.set("left", left);
        m.set("right", right);
        return F.objectNode().set("match", m);
    }

    static JsonNode payload(String proto, String field) {
        return F.objectNode().set("payload", F.objectNode().put("protocol", proto).put("field", field));
    }

    static JsonNode meta(String key) {
        return F.objectNode().set("meta", F.objectNode().put("key", key));
    }

    static JsonNode ct(String key, String dir) {
        ObjectNode o = F.objectNode().put("key", key);
        if (dir != null) {
            o.put("dir", dir);
        }
        return F.objectNode().set("ct", o);
    }

    static JsonNode concat(JsonNode... parts) {
        ArrayNode a = F.arrayNode();
        for (JsonNode p : parts) {
            a.add(p);
        }
        return F.objectNode().set("concat", a);
    }

    static JsonNode lookup(JsonNode key, String map) {
        ObjectNode m = F.objectNode();
        m.set("key", key);
        m.put("data", map);
        return F.objectNode().set("map", m);
    }

    static JsonNode verdict(String v) {
        return F.objectNode().putNull(v);
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
}
