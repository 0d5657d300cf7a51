package dev.hostdeploy.guardian;

import java.util.Objects;

/** One validated port forward: new connections to hostPort on this host go to target:targetPort. */
record Forward(Proto proto, int hostPort, IpAddress target, int targetPort, Owner owner) {
    Forward {
        Objects.requireNonNull(proto);
        Objects.requireNonNull(target);
        Objects.requireNonNull(owner);
    }

    boolean sameHostPort(Forward o) {
        return proto == o.proto && hostPort == o.hostPort;
    }

    String describe() {
        String t = target.v4() ? target.toString() : "[" + target + "]";
        return hostPort + "/" + proto.wire() + " -> " + t + ":" + targetPort + " (" + owner + ")";
    }
}
