package dev.hostdeploy.schema.firewall;

import static dev.hostdeploy.protocol.Validation.require;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.hostdeploy.schema.Owner;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Guardian's commands: each command's name and its request and result records. Values are
 * checked as they are read (ports, ranges, CIDRs, owners, comments), so a record that exists holds
 * nothing nft could misread; a bad value is {@code invalid_data} naming the field.
 */
public final class FirewallSchema {
    /** Opens a port or range, optionally for one source network: {@link RuleData} → {@link Opened}. Idempotent. */
    public static final String OPEN = "firewall.open";
    /** Closes one opening or all of one owner's: {@link Close} → {@link Closed}. */
    public static final String CLOSE = "firewall.close";
    /** Forwards a host port to an address and port: {@link ForwardData} → {@link ForwardAdded}. */
    public static final String FORWARD_ADD = "forward.add";
    /** Removes a forward or all of one owner's: {@link ForwardRemove} → {@link Removed}. */
    public static final String FORWARD_REMOVE = "forward.remove";
    /** The whole desired state: no data → {@link State}. */
    public static final String LIST = "firewall.list";
    /** Replaces the whole desired state in one transaction: {@link State} → {@link Applied}. */
    public static final String APPLY = "firewall.apply";
    /** Counts and drift, without repairing it: no data → {@link Status}. */
    public static final String STATUS = "firewall.status";
    /** No data, to {@link Summary}: {@link #LIST} and {@link #STATUS} in one reply, for the Manager's statistics. */
    public static final String SUMMARY = "firewall.summary";
    /** The event the Guardian sends after it repaired drift: {@link Repaired}. */
    public static final String REPAIRED = "firewall.repaired";

    /** Every command the Guardian serves. */
    public static final List<String> COMMANDS = List.of(OPEN, CLOSE, FORWARD_ADD, FORWARD_REMOVE, LIST, APPLY, STATUS,
            SUMMARY);

    private FirewallSchema() {
    }

    /**
     * One opening: {@code {"protocol":"tcp","port":8080}} or {@code {"protocol":"tcp","ports":"8000-8010"}},
     * optionally limited to a source network, held by an owner, with a comment.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuleData(String protocol, @JsonDeserialize(using = PortNumber.class) Integer port, String ports,
            String source, Owner owner, String comment) {
        public RuleData {
            checkRule(protocol, port, ports, source, comment);
            comment = comment == null || comment.isEmpty() ? null : comment;
        }

        public static RuleData port(Proto proto, int port, Owner owner) {
            return new RuleData(proto.wire(), port, null, null, owner, null);
        }

        public Proto proto() {
            return Proto.parse("protocol", protocol);
        }

        public PortRange range() {
            return port != null ? PortRange.single(port) : PortRange.parse("ports", ports);
        }

        /** The source network, or null for everyone. */
        public Cidr network() {
            return Cidr.parse("source", source);
        }
    }

    private static void checkRule(String protocol, Integer port, String ports, String source, String comment) {
        Proto.parse("protocol", protocol);
        require(port == null || ports == null, "port", "give either port or ports, not both");
        require(port != null || ports != null, "port", "is required (or ports, e.g. \"8000-8010\")");
        if (port != null) {
            PortRange.port("port", port);
        } else {
            PortRange.parse("ports", ports);
        }
        Cidr.parse("source", source);
        Comment.parse("comment", comment);
    }

    /** {@code firewall.open}'s result: the opening as the Guardian holds it, and whether it was new or changed. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Opened(RuleData opened, boolean changed) {
    }

    /**
     * {@code firewall.close}: the opening with exactly these fields (the comment is ignored), or with
     * only {@code {"owner"}} everything that owner holds.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Close(String protocol, @JsonDeserialize(using = PortNumber.class) Integer port, String ports,
            String source, Owner owner, String comment) {
        public Close {
            if (!(protocol == null && port == null && ports == null && source == null && owner != null)) {
                checkRule(protocol, port, ports, source, comment);
            }
        }

        public static Close of(RuleData r) {
            return new Close(r.protocol(), r.port(), r.ports(), r.source(), r.owner(), null);
        }

        public static Close owner(Owner owner) {
            return new Close(null, null, null, null, owner, null);
        }

        /** Whether this closes everything its owner holds. */
        public boolean ownerOnly() {
            return protocol == null && port == null && ports == null && source == null;
        }

        /** The one opening to close; only when not {@link #ownerOnly}. */
        public RuleData rule() {
            return new RuleData(protocol, port, ports, source, owner, comment);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Closed(int closed) {
    }

    /** One forward: new connections to {@code hostPort} go to {@code targetAddress:targetPort}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ForwardData(String protocol, @JsonDeserialize(using = PortNumber.class) Integer hostPort,
            String targetAddress, @JsonDeserialize(using = PortNumber.class) Integer targetPort, Owner owner) {
        public ForwardData {
            Proto.parse("protocol", protocol);
            PortRange.port("hostPort", hostPort);
            require(targetAddress != null, "targetAddress", "is required");
            require(IpAddress.tryParse(targetAddress) != null, "targetAddress", "must be a literal IPv4 or IPv6 address");
            PortRange.port("targetPort", targetPort);
            require(owner != null, "owner", "is required");
        }

        public Proto proto() {
            return Proto.parse("protocol", protocol);
        }

        public IpAddress target() {
            return IpAddress.tryParse(targetAddress);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ForwardAdded(ForwardData forward, boolean changed) {
    }

    /** {@code forward.remove}: {@code {"protocol","hostPort"}} (an owner, if given, must match) or only {@code {"owner"}}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ForwardRemove(String protocol, @JsonDeserialize(using = PortNumber.class) Integer hostPort,
            Owner owner) {
        public ForwardRemove {
            if (!(protocol == null && hostPort == null && owner != null)) {
                Proto.parse("protocol", protocol);
                PortRange.port("hostPort", hostPort);
            }
        }

        public static ForwardRemove owner(Owner owner) {
            return new ForwardRemove(null, null, owner);
        }

        public boolean ownerOnly() {
            return protocol == null && hostPort == null;
        }

        public Proto proto() {
            return Proto.parse("protocol", protocol);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Removed(int removed) {
    }

    /**
     * The whole desired state: {@code firewall.list}'s result and {@code firewall.apply}'s request.
     * A host port is forwarded at most once.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record State(List<RuleData> rules, List<ForwardData> forwards) {
        public State {
            rules = rules == null ? List.of() : List.copyOf(rules);
            forwards = forwards == null ? List.of() : List.copyOf(forwards);
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < forwards.size(); i++) {
                ForwardData f = forwards.get(i);
                Integer j = seen.putIfAbsent(f.protocol() + " " + f.hostPort(), i);
                require(j == null, "forwards[" + i + "].hostPort", "already used by forwards[" + j + "]");
            }
        }
    }

    /** {@code firewall.apply}'s result: what is now in force, and the nft set elements that hold it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Applied(int rules, int forwards, int elements) {
    }

    /**
     * {@code firewall.status}: whether the table is present, counts, the drift between the desired
     * state and the kernel (reported here, repaired by the periodic check) and the last repair.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Status(String table, boolean tablePresent, int rules, int forwards, int nftRules, int nftElements,
            boolean inSync, List<String> drift, List<Integer> protectedTcpPorts, Repaired lastRepair) {
        public Status {
            drift = drift == null ? List.of() : List.copyOf(drift);
            protectedTcpPorts = protectedTcpPorts == null ? List.of() : List.copyOf(protectedTcpPorts);
        }
    }

    /** The {@code firewall.repaired} event: what the Guardian found wrong in the kernel and put right. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Repaired(String event, String table, List<String> repaired, String at) {
        public Repaired {
            repaired = repaired == null ? List.of() : List.copyOf(repaired);
        }
    }

    /** The desired state ({@link #LIST}) and the status ({@link #STATUS}) together. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Summary(State state, Status status) {
        public Summary {
            require(state != null, "state", "is required");
            require(status != null, "status", "is required");
        }
    }
}
