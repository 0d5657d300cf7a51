package dev.hostdeploy.protocol;

/**
 * Thrown by handlers (and by wire records' compact constructors) to answer a request with an
 * {@code error} frame. The message goes on the wire as it is, so it must never hold secrets or traces.
 */
public class ProtocolException extends RuntimeException {
    private final ErrorCode code;
    private final String field;

    public ProtocolException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public ProtocolException(ErrorCode code, String message, String field) {
        super(message);
        this.code = code;
        this.field = field;
    }

    public static ProtocolException invalid(String field, String message) {
        return new ProtocolException(ErrorCode.INVALID_DATA, field + ": " + message, field);
    }

    public static ProtocolException notFound(String message) {
        return new ProtocolException(ErrorCode.NOT_FOUND, message);
    }

    public static ProtocolException conflict(String message) {
        return new ProtocolException(ErrorCode.CONFLICT, message);
    }

    public static ProtocolException busy(String message) {
        return new ProtocolException(ErrorCode.BUSY, message);
    }

    public static ProtocolException unavailable(String message) {
        return new ProtocolException(ErrorCode.UNAVAILABLE, message);
    }

    public ErrorCode code() {
        return code;
    }

    public String field() {
        return field;
    }

    public ErrorData toErrorData() {
        return ErrorData.of(code, getMessage(), field);
    }
}
