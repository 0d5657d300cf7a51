package dev.hostdeploy.guardian.state;

import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.firewall.PortRange;
import dev.hostdeploy.schema.firewall.Proto;

/** What makes an opening: everything but the comment (see {@link Rule#sameOpening}). */
record Opening(Proto proto, PortRange ports, Cidr source, Owner owner) {
    static Opening of(Rule r) {
        return new Opening(r.proto(), r.ports(), r.source(), r.owner());
    }
}
