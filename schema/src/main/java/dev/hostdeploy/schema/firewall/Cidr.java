package dev.hostdeploy.schema.firewall;

import dev.hostdeploy.protocol.ProtocolException;

/** An IPv4 or IPv6 network with no host bits set; a bare address means a single host. */
public record Cidr(IpAddress address, int prefix) implements Comparable<Cidr> {
    public Cidr {
        if (address == null || prefix < 0 || prefix > address.bits()) {
            throw new IllegalArgumentException("bad prefix");
        }
    }

    public static Cidr parse(String field, String value) {
        if (value == null) {
            return null;
        }
        String addr = value;
        Integer prefix = null;
        int slash = value.indexOf('/');
        if (slash >= 0) {
            addr = value.substring(0, slash);
            String p = value.substring(slash + 1);
            if (!p.matches("0|[1-9][0-9]{0,2}")) {
                throw ProtocolException.invalid(field, "must be an IPv4 or IPv6 address or CIDR like 203.0.113.0/24");
            }
            prefix = Integer.parseInt(p);
        }
        IpAddress ip = IpAddress.tryParse(addr);
        if (ip == null) {
            throw ProtocolException.invalid(field, "must be an IPv4 or IPv6 address or CIDR like 203.0.113.0/24");
        }
        int len = prefix == null ? ip.bits() : prefix;
        if (len > ip.bits()) {
            throw ProtocolException.invalid(field, "prefix length must be at most " + ip.bits());
        }
        Cidr c = new Cidr(ip, len);
        if (!c.network().equals(ip)) {
            throw ProtocolException.invalid(field, "has host bits set; did you mean " + c.network() + "/" + len + "?");
        }
        return c;
    }

    public boolean v4() {
        return address.v4();
    }

    /** The address with every bit past the prefix cleared. */
    public IpAddress network() {
        byte[] b = address.bytes();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - 8 * i));
            b[i] = (byte) (b[i] & (0xff << (8 - keep)));
        }
        return new IpAddress(b);
    }

    /** True when {@code other} lies inside this network (or is it). */
    public boolean contains(Cidr other) {
        if (other.v4() != v4() || other.prefix < prefix) {
            return false;
        }
        return new Cidr(other.address, prefix).network().equals(address);
    }

    @Override
    public int compareTo(Cidr o) {
        byte[] a = address.bytes();
        byte[] b = o.address.bytes();
        if (a.length != b.length) {
            return Integer.compare(a.length, b.length);
        }
        for (int i = 0; i < a.length; i++) {
            int c = Integer.compare(a[i] & 0xff, b[i] & 0xff);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(prefix, o.prefix);
    }

    @Override
    public String toString() {
        return prefix == address.bits() ? address.toString() : address + "/" + prefix;
    }
}
