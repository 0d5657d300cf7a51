package dev.hostdeploy.guardian.state;

import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.firewall.Comment;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.PortRange;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.Objects;

/** One validated opening: protocol and ports, optionally limited to a source network, held by an owner. */
public record Rule(Proto proto, PortRange ports, Cidr source, Owner owner, Comment comment) {
    public Rule {
        Objects.requireNonNull(proto);
        Objects.requireNonNull(ports);
    }

    /** The typed values of an opening from the wire (already checked by {@link RuleData}'s constructor). */
    public static Rule of(RuleData d) {
        return new Rule(d.proto(), d.range(), d.network(), d.owner(), d.comment() == null ? null : new Comment(d.comment()));
    }

    /** The opening on the wire, in its canonical form: a single port as {@code port}, a range as {@code ports}. */
    public RuleData data() {
        boolean single = single();
        return new RuleData(proto.wire(), single ? ports.first() : null, single ? null : ports.toString(),
                source == null ? null : source.toString(), owner, comment == null ? null : comment.text());
    }

    /** Whether this opens exactly one port to everyone: the common case, kept in a set of its own. */
    public boolean single() {
        return source == null && ports.first() == ports.last();
    }

    /** Two openings are the same opening when everything but the comment matches. */
    public boolean sameOpening(Rule o) {
        return proto == o.proto && ports.equals(o.ports) && Objects.equals(source, o.source)
                && Objects.equals(owner, o.owner);
    }

    public String describe() {
        return ports + "/" + proto.wire() + (source == null ? "" : " from " + source)
                + (owner == null ? "" : " (" + owner + ")");
    }
}
