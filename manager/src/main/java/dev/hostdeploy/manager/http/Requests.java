package dev.hostdeploy.manager.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.protocol.ProtocolException;
import io.javalin.http.Context;
import java.io.IOException;

/** What route handlers read from and note on a request: its body, its caller, its audit target. */
public final class Requests {
    static final String CALLER_ATTRIBUTE = "hd.caller";
    static final String ACTOR_ATTRIBUTE = "hd.actor";
    static final String TARGET_ATTRIBUTE = "hd.target";
    static final String AUDITED_ATTRIBUTE = "hd.audited";

    private Requests() {
    }

    /**
     * The body bound to a record; a missing or malformed body is a 400 naming the field. Binding is
     * strict (no {@code 123} for a string, nothing after the value): see {@link ManagerJson#REQUESTS}.
     */
    public static <T> T body(Context ctx, Class<T> type) {
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length == 0) {
            throw ProtocolException.invalid("body", "is required (a JSON object)");
        }
        try {
            T value = ManagerJson.REQUESTS.readValue(bytes, type);
            if (value == null) {
                throw ProtocolException.invalid("body", "is required (a JSON object)");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw Errors.binding(e);
        } catch (IOException e) {
            throw new ApiException(400, "bad_request", "could not read the request body");
        }
    }

    /** The user name behind the request, or {@code anonymous}. */
    public static String actor(Context ctx) {
        String a = ctx.attribute(ACTOR_ATTRIBUTE);
        return a == null ? "anonymous" : a;
    }

    public static Caller caller(Context ctx) {
        return ctx.attribute(CALLER_ATTRIBUTE);
    }

    /** The audit entry's target, e.g. {@code host/lumi}; set as soon as it is known. */
    public static void target(Context ctx, String target) {
        ctx.attribute(TARGET_ATTRIBUTE, target);
    }

    /** The handler records its own audit entry (an agent command, with the agent's outcome). */
    public static void auditedElsewhere(Context ctx) {
        ctx.attribute(AUDITED_ATTRIBUTE, true);
    }
}
