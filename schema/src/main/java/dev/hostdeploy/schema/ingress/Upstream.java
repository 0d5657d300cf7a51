package dev.hostdeploy.schema.ingress;

import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.firewall.IpAddress;
import dev.hostdeploy.schema.firewall.PortRange;
import java.util.List;

/**
 * Where a route sends requests: a literal address and a port ({@code 127.0.0.1:8080}, {@code [::1]:8080};
 * {@code localhost} means 127.0.0.1). Never a name: a name would be resolved by Caddy, outside the
 * Guardian's check of which networks an upstream may be in.
 */
public record Upstream(IpAddress address, int port) {
    /** Loopback, and the private ranges Docker and LXD give their bridges by default. */
    public static final List<String> DEFAULT_NETWORKS = List.of("127.0.0.0/8", "::1", "172.16.0.0/12", "10.0.0.0/8",
            "192.168.0.0/16", "fd00::/8");

    public Upstream {
        if (address == null || port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad upstream");
        }
    }

    public static Upstream parse(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw ProtocolException.invalid(field, "is required");
        }
        String host;
        String port;
        if (value.startsWith("[")) {
            int end = value.indexOf("]:");
            if (end < 0) {
                throw ProtocolException.invalid(field, "must be ADDRESS:PORT, like 127.0.0.1:8080 or [::1]:8080");
            }
            host = value.substring(1, end);
            port = value.substring(end + 2);
        } else {
            int colon = value.lastIndexOf(':');
            if (colon <= 0 || value.indexOf(':') != colon) {
                throw ProtocolException.invalid(field, "must be ADDRESS:PORT, like 127.0.0.1:8080 or [::1]:8080");
            }
            host = value.substring(0, colon);
            port = value.substring(colon + 1);
        }
        IpAddress ip = "localhost".equals(host) ? IpAddress.tryParse("127.0.0.1") : IpAddress.tryParse(host);
        if (ip == null || (value.startsWith("[") && ip.v4())) {
            throw ProtocolException.invalid(field, "must name a literal IPv4 or IPv6 address (or localhost), got '"
                    + host + "'");
        }
        if (!port.matches("[0-9]{1,5}")) {
            throw ProtocolException.invalid(field, "port must be from 1 to 65535");
        }
        return new Upstream(ip, PortRange.port(field, Integer.parseInt(port)));
    }

    /** Refuses an upstream outside {@code networks} ({@code invalid_data} naming {@code field}). */
    public void requireIn(String field, List<Cidr> networks) {
        Cidr self = new Cidr(address, address.bits());
        if (networks.stream().noneMatch(n -> n.contains(self))) {
            throw ProtocolException.invalid(field, "address " + address + " is outside the networks upstreams may be in ("
                    + String.join(", ", networks.stream().map(Cidr::toString).toList())
                    + "): only loopback and the host's container networks");
        }
    }

    public static List<Cidr> networks(String field, List<String> cidrs) {
        return cidrs.stream().map(c -> Cidr.parse(field, c)).toList();
    }

    /** What Caddy dials: {@code 127.0.0.1:8080} or {@code [::1]:8080}. */
    @Override
    public String toString() {
        return address.v4() ? address + ":" + port : "[" + address + "]:" + port;
    }
}
