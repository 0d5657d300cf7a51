package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.ProtocolException;
import java.util.regex.Pattern;

/** Who holds an opening or forward (a deployment or member container name). */
record Owner(String name) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,63}");

    Owner {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad owner");
        }
    }

    static Owner parse(String field, String value) {
        if (value == null) {
            return null;
        }
        if (!NAME.matcher(value).matches()) {
            throw ProtocolException.invalid(field, "must be 1-63 characters of a-z, 0-9 and '-'");
        }
        return new Owner(value);
    }

    @Override
    public String toString() {
        return name;
    }
}
