package dev.hostdeploy.protocol;

/** Checks for wire records' compact constructors: a failed check becomes {@code invalid_data} naming the field. */
public final class Validation {
    private Validation() {
    }

    public static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw ProtocolException.invalid(field, message);
        }
    }

    public static <T> T required(T value, String field) {
        if (value == null) {
            throw ProtocolException.invalid(field, "is required");
        }
        return value;
    }
}
