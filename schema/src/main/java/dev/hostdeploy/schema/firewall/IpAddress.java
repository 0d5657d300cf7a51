package dev.hostdeploy.schema.firewall;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * A literal IPv4 or IPv6 address, parsed strictly (never resolved through DNS) and printed in the
 * canonical form nft prints, so our desired state and the kernel's listing compare as text.
 */
public record IpAddress(byte[] bytes) {
    private static final Pattern V4 = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    public IpAddress {
        if (bytes == null || (bytes.length != 4 && bytes.length != 16)) {
            throw new IllegalArgumentException("bad address length");
        }
        bytes = bytes.clone();
    }

    /** Returns null when the text is not a literal address. */
    public static IpAddress tryParse(String text) {
        if (text == null) {
            return null;
        }
        if (V4.matcher(text).matches()) {
            String[] parts = text.split("\\.");
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                int v = Integer.parseInt(parts[i]);
                if (v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            }
            return new IpAddress(b);
        }
        if (V6.matcher(text).matches() && text.contains(":")) {
            try {
                // Only hex digits, ':' and '.' reach here, so this parses a literal and never does a lookup.
                InetAddress a = InetAddress.getByName(text);
                byte[] b = a.getAddress();
                return b.length == 16 ? new IpAddress(b) : null; // IPv4-mapped forms collapse to v4: refuse
            } catch (UnknownHostException e) {
                return null;
            }
        }
        return null;
    }

    public boolean v4() {
        return bytes.length == 4;
    }

    public int bits() {
        return bytes.length * 8;
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpAddress other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** Dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run of 2+ groups compressed). */
    @Override
    public String toString() {
        if (v4()) {
            return (bytes[0] & 0xff) + "." + (bytes[1] & 0xff) + "." + (bytes[2] & 0xff) + "." + (bytes[3] & 0xff);
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }
}
