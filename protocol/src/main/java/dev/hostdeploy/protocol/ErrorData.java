package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The data of an {@code error} frame. {@code field} names the offending field of an
 * {@code invalid_data} error and is null otherwise.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ErrorData(String code, String message, boolean retryable, String field) {
    public ErrorData {
        if (code == null || code.isBlank()) {
            throw new IllegalArgumentException("error code is required");
        }
        if (message == null) {
            message = "";
        }
    }

    public static ErrorData of(ErrorCode code, String message, String field) {
        return new ErrorData(code.wire(), message, code.retryable(), field);
    }

    public ErrorCode errorCode() {
        return ErrorCode.fromWire(code);
    }
}
