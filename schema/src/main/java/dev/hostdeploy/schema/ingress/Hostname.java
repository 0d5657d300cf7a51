package dev.hostdeploy.schema.ingress;

import dev.hostdeploy.protocol.ProtocolException;
import java.net.IDN;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A hostname a route answers for, in its ASCII (IDNA, "xn--") lowercase form: the form Caddy matches
 * and certificates name. No wildcards (Debian's Caddy has no DNS-challenge modules to get a wildcard
 * certificate), no IP literals, at least two labels.
 */
public final class Hostname {
    public static final int MAX_LENGTH = 253;
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern NUMERIC = Pattern.compile("[0-9]+");

    private Hostname() {
    }

    /** Checks and normalises a hostname; anything else is {@code invalid_data} naming {@code field}. */
    public static String parse(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw ProtocolException.invalid(field, "is required");
        }
        if (value.indexOf('*') >= 0) {
            throw ProtocolException.invalid(field, "wildcards are not supported: name each hostname");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw ProtocolException.invalid(field, "must not contain spaces or control characters");
            }
        }
        if (value.length() > 1024) {
            throw ProtocolException.invalid(field, "is longer than " + MAX_LENGTH + " characters");
        }
        String ascii;
        try {
            // STD3 rules: letters, digits and '-' only in each label, once converted.
            ascii = IDN.toASCII(value, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw ProtocolException.invalid(field, "is not a valid (internationalised) hostname");
        }
        if (ascii.endsWith(".")) {
            ascii = ascii.substring(0, ascii.length() - 1); // the root label: app.example.org. is app.example.org
        }
        if (ascii.length() > MAX_LENGTH) {
            throw ProtocolException.invalid(field, "is longer than " + MAX_LENGTH + " characters");
        }
        String[] labels = ascii.split("\\.", -1);
        if (labels.length < 2) {
            throw ProtocolException.invalid(field, "must have at least two labels, like app.example.org");
        }
        for (String l : labels) {
            if (!LABEL.matcher(l).matches()) {
                throw ProtocolException.invalid(field, "each label must be 1-63 letters, digits or '-',"
                        + " not starting or ending with '-'");
            }
        }
        if (NUMERIC.matcher(labels[labels.length - 1]).matches()) {
            throw ProtocolException.invalid(field, "must be a name, not an IP address");
        }
        return ascii;
    }

    /** Whether {@code host} (normalised) is {@code suffix} or lies under it: {@code a.apps.example.org} under {@code apps.example.org}. */
    public static boolean under(String host, String suffix) {
        String s = suffix.startsWith(".") ? suffix.substring(1) : suffix;
        return host.equals(s) || host.endsWith("." + s);
    }
}
