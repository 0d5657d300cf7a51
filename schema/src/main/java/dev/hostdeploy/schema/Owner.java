package dev.hostdeploy.schema;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.hostdeploy.protocol.ProtocolException;
import java.util.regex.Pattern;

/**
 * Who holds a thing an agent keeps (a firewall opening, a forward, a container): {@code kind/name}, for
 * example {@code deployment/web}, {@code container/3f2a}, {@code manual/admin}. On the wire it is the
 * plain string. The Manager picks the kind; agents only compare owners, so they never parse the name.
 */
public record Owner(String kind, String name) {
    public static final int MAX_LENGTH = 128;
    private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    private static final Pattern NAME = Pattern.compile("[a-z0-9._-][a-z0-9/._-]*");
    static final String RULE = "must be kind/name: up to " + MAX_LENGTH
            + " characters of a-z, 0-9, '/', '.', '_' and '-', such as deployment/web";

    public Owner {
        if (kind == null || !KIND.matcher(kind).matches() || name == null || !NAME.matcher(name).matches()
                || kind.length() + 1 + name.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("owner " + RULE);
        }
    }

    /** Reads an owner from the wire; anything else is {@code invalid_data} naming the field. */
    public static Owner parse(String field, String value) {
        if (value == null) {
            throw ProtocolException.invalid(field, "is required");
        }
        int slash = value.indexOf('/');
        if (slash <= 0 || value.length() > MAX_LENGTH) {
            throw ProtocolException.invalid(field, RULE);
        }
        try {
            return new Owner(value.substring(0, slash), value.substring(slash + 1));
        } catch (IllegalArgumentException e) {
            throw ProtocolException.invalid(field, RULE);
        }
    }

    /** Jackson's way in: a string on the wire. The field is named by the binding that calls this. */
    @JsonCreator
    public static Owner of(String value) {
        return parse("owner", value);
    }

    public static Owner of(String kind, String name) {
        return new Owner(kind, name);
    }

    @JsonValue
    @Override
    public String toString() {
        return kind + "/" + name;
    }
}
