package dev.hostdeploy.guardian;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import dev.hostdeploy.protocol.ProtocolException;

/** A forward on the wire: {@code {"protocol","hostPort","targetAddress","targetPort","owner"}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
record ForwardData(String protocol, JsonNode hostPort, String targetAddress, JsonNode targetPort, String owner) {

    static ForwardData of(Forward f) {
        return new ForwardData(f.proto().wire(), IntNode.valueOf(f.hostPort()), f.target().toString(),
                IntNode.valueOf(f.targetPort()), f.owner().name());
    }

    boolean ownerOnly() {
        return protocol == null && RuleData.absent(hostPort) && targetAddress == null
                && RuleData.absent(targetPort) && owner != null;
    }

    Forward toForward(String at) {
        Proto proto = Proto.parse(at + "protocol", protocol);
        int host = PortRange.port(at + "hostPort", hostPort);
        if (targetAddress == null) {
            throw ProtocolException.invalid(at + "targetAddress", "is required");
        }
        IpAddress target = IpAddress.tryParse(targetAddress);
        if (target == null) {
            throw ProtocolException.invalid(at + "targetAddress", "must be a literal IPv4 or IPv6 address");
        }
        int port = PortRange.port(at + "targetPort", targetPort);
        if (owner == null) {
            throw ProtocolException.invalid(at + "owner", "is required");
        }
        return new Forward(proto, host, target, port, Owner.parse(at + "owner", owner));
    }
}
