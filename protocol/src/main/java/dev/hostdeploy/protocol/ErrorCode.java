package dev.hostdeploy.protocol;

import java.util.Locale;

/**
 * Every error a peer can send. This enum is the one place that decides whether a failed call may be
 * retried as it is: the client's reconnect and retry logic and the Manager's orchestration ask it.
 */
public enum ErrorCode {
    /** The frame or its envelope could not be parsed; the reply carries a null id. */
    BAD_REQUEST(false),
    UNKNOWN_COMMAND(false),
    /** The command's data failed validation; the error names the field. */
    INVALID_DATA(false),
    /** A request reused an id that is still in flight on this connection. */
    DUPLICATE_ID(false),
    /** The target is busy with another operation; the same call may succeed later. */
    BUSY(true),
    NOT_FOUND(false),
    CONFLICT(false),
    /** The peer or something it depends on is not reachable now. */
    UNAVAILABLE(true),
    TIMEOUT(true),
    INTERNAL(false);

    private final boolean retryable;

    ErrorCode(boolean retryable) {
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The snake_case name used on the wire. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Reads a wire code; a code this version does not know is treated as {@link #INTERNAL}. */
    public static ErrorCode fromWire(String code) {
        if (code != null) {
            for (ErrorCode c : values()) {
                if (c.wire().equals(code)) {
                    return c;
                }
            }
        }
        return INTERNAL;
    }
}
