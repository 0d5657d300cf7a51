package dev.hostdeploy.schema.firewall;

import dev.hostdeploy.protocol.ProtocolException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An ordered, inclusive range of ports within 1-65535; a single port is a range of one. */
public record PortRange(int first, int last) implements Comparable<PortRange> {
    private static final Pattern RANGE = Pattern.compile("([0-9]{1,5})(?:-([0-9]{1,5}))?");

    public PortRange {
        if (first < 1 || first > 65535 || last < 1 || last > 65535 || first > last) {
            throw new IllegalArgumentException("bad port range " + first + "-" + last);
        }
    }

    public static PortRange single(int port) {
        return new PortRange(port, port);
    }

    /** Checks a port number; null is "is required". */
    public static int port(String field, Integer value) {
        if (value == null) {
            throw ProtocolException.invalid(field, "is required");
        }
        if (value < 1 || value > 65535) {
            throw ProtocolException.invalid(field, "must be from 1 to 65535, got " + value);
        }
        return value;
    }

    /** "8000-8010" or "8080". */
    public static PortRange parse(String field, String text) {
        Matcher m = text == null ? null : RANGE.matcher(text);
        if (m == null || !m.matches()) {
            throw ProtocolException.invalid(field, "must be a port range like \"8000-8010\"");
        }
        int a = Integer.parseInt(m.group(1));
        int b = m.group(2) == null ? a : Integer.parseInt(m.group(2));
        if (a < 1 || a > 65535 || b < 1 || b > 65535) {
            throw ProtocolException.invalid(field, "ports must be from 1 to 65535");
        }
        if (a > b) {
            throw ProtocolException.invalid(field, "range must be ordered low-high, got " + a + "-" + b);
        }
        return new PortRange(a, b);
    }

    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    public boolean overlaps(PortRange o) {
        return first <= o.last && o.first <= last;
    }

    public int size() {
        return last - first + 1;
    }

    @Override
    public int compareTo(PortRange o) {
        return first != o.first ? Integer.compare(first, o.first) : Integer.compare(last, o.last);
    }

    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + "-" + last;
    }
}
