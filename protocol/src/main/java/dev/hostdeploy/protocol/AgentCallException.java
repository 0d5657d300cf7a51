package dev.hostdeploy.protocol;

/** A call that ended in an {@code error}: from the agent, or made up locally (timeout, not connected). */
public final class AgentCallException extends RuntimeException {
    private final ErrorData error;

    public AgentCallException(ErrorData error) {
        super(error.code() + ": " + error.message());
        this.error = error;
    }

    public ErrorData error() {
        return error;
    }

    public ErrorCode code() {
        return error.errorCode();
    }

    public boolean retryable() {
        return error.retryable();
    }
}
