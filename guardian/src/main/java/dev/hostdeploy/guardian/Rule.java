package dev.hostdeploy.guardian;

import java.util.Objects;

/** One validated opening: protocol and ports, optionally limited to a source network, held by an owner. */
record Rule(Proto proto, PortRange ports, Cidr source, Owner owner, Comment comment) {
    Rule {
        Objects.requireNonNull(proto);
        Objects.requireNonNull(ports);
    }

    /** Two openings are the same opening when everything but the comment matches. */
    boolean sameOpening(Rule o) {
        return proto == o.proto && ports.equals(o.ports) && Objects.equals(source, o.source)
                && Objects.equals(owner, o.owner);
    }

    String describe() {
        return ports + "/" + proto.wire() + (source == null ? "" : " from " + source)
                + (owner == null ? "" : " (" + owner + ")");
    }
}
