package dev.hostdeploy.guardian;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.hostdeploy.protocol.ProtocolException;

/**
 * An opening on the wire: {@code {"protocol":"tcp","port":8080}} or {@code {"protocol":"tcp","ports":"8000-8010"}},
 * optional source, owner and comment. Raw JSON nodes for the ports so that every bad value gets our
 * own message naming the field.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
record RuleData(String protocol, JsonNode port, JsonNode ports, String source, String owner, String comment) {

    static RuleData of(Rule r) {
        boolean single = r.ports().first() == r.ports().last();
        return new RuleData(r.proto().wire(),
                single ? IntNode.valueOf(r.ports().first()) : null,
                single ? null : TextNode.valueOf(r.ports().toString()),
                r.source() == null ? null : r.source().toString(),
                r.owner() == null ? null : r.owner().name(),
                r.comment() == null ? null : r.comment().text());
    }

    boolean ownerOnly() {
        return protocol == null && absent(port) && absent(ports) && source == null && owner != null;
    }

    /** Validates every field; {@code at} prefixes field names (e.g. "rules[3].") for list items. */
    Rule toRule(String at) {
        Proto proto = Proto.parse(at + "protocol", protocol);
        PortRange range;
        if (!absent(port) && !absent(ports)) {
            throw ProtocolException.invalid(at + "port", "give either port or ports, not both");
        } else if (!absent(port)) {
            range = PortRange.single(PortRange.port(at + "port", port));
        } else if (!absent(ports)) {
            range = PortRange.parse(at + "ports", ports);
        } else {
            throw ProtocolException.invalid(at + "port", "is required (or ports, e.g. \"8000-8010\")");
        }
        return new Rule(proto, range, Cidr.parse(at + "source", source), Owner.parse(at + "owner", owner),
                Comment.parse(at + "comment", comment));
    }

    static boolean absent(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }
}
