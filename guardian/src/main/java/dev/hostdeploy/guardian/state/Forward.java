package dev.hostdeploy.guardian.state;

import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.IpAddress;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.Objects;

/** One validated port forward: new connections to hostPort on this host go to target:targetPort. */
public record Forward(Proto proto, int hostPort, IpAddress target, int targetPort, Owner owner) {
    public Forward {
        Objects.requireNonNull(proto);
        Objects.requireNonNull(target);
        Objects.requireNonNull(owner);
    }

    public static Forward of(ForwardData d) {
        return new Forward(d.proto(), d.hostPort(), d.target(), d.targetPort(), d.owner());
    }

    public ForwardData data() {
        return new ForwardData(proto.wire(), hostPort, target.toString(), targetPort, owner);
    }

    /** The host port a forward takes: at most one forward per key. */
    public HostPort key() {
        return new HostPort(proto, hostPort);
    }

    public boolean sameHostPort(Forward o) {
        return proto == o.proto && hostPort == o.hostPort;
    }

    public String describe() {
        String t = target.v4() ? target.toString() : "[" + target + "]";
        return hostPort + "/" + proto.wire() + " -> " + t + ":" + targetPort + " (" + owner + ")";
    }
}
