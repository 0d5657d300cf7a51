package dev.hostdeploy.manager.agents;

import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ProtocolException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** How a failed agent call reads in a log line or a stored error, the same in every feature. */
public final class AgentErrors {
    private AgentErrors() {
    }

    /** The failure itself, without the future's wrappers around it. */
    public static Throwable cause(Throwable e) {
        while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** {@code code: message} of an agent's or protocol error, {@code timeout}, or the failure's message. */
    public static String message(Throwable e) {
        Throwable c = cause(e);
        if (c instanceof AgentCallException a) {
            return a.error().code() + ": " + a.error().message();
        }
        if (c instanceof ProtocolException p) {
            return p.toErrorData().code() + ": " + p.getMessage();
        }
        if (c instanceof TimeoutException) {
            return "timeout";
        }
        return String.valueOf(c.getMessage());
    }
}
