package dev.hostdeploy.schema.firewall;

import dev.hostdeploy.protocol.ProtocolException;
import java.util.regex.Pattern;

/** A note for humans. Restricted to plain text so it is safe wherever it is shown or logged. */
public record Comment(String text) {
    public static final int MAX = 200;
    private static final Pattern TEXT = Pattern.compile("[\\p{L}\\p{N} _.,:/()+=@#!?%&*-]{0," + MAX + "}");

    public Comment {
        if (text == null || !TEXT.matcher(text).matches()) {
            throw new IllegalArgumentException("bad comment");
        }
    }

    public static Comment parse(String field, String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > MAX) {
            throw ProtocolException.invalid(field, "must be at most " + MAX + " characters");
        }
        if (!TEXT.matcher(value).matches()) {
            throw ProtocolException.invalid(field,
                    "may only hold letters, digits, spaces and _ . , : / ( ) + = @ # ! ? % & * - (no quotes or line breaks)");
        }
        return new Comment(value);
    }

    @Override
    public String toString() {
        return text;
    }
}
