package dev.hostdeploy.manager.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.mongodb.MongoException;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.protocol.ProtocolException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns every failure into the one error shape, with a status that matches the error code. */
final class Errors {
    static final String CODE_ATTRIBUTE = "hd.errorCode";
    /** The largest request body, declared or chunked. */
    static final int MAX_BODY = 1_000_000;
    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

    private Errors() {
    }

    /** @param storeFailed told of every store failure that reached a request, for the health report */
    static void install(Javalin app, Consumer<RuntimeException> storeFailed) {
        app.exception(ApiException.class, (e, ctx) -> write(ctx, e));
        app.exception(MongoException.class, (e, ctx) -> {
            storeFailed.accept(e);
            internal(ctx, e);
        });
        app.exception(ProtocolException.class, (e, ctx) -> write(ctx, fromProtocol(e.toErrorData(), null)));
        app.exception(AgentCallException.class, (e, ctx) -> write(ctx, fromProtocol(e.error(), "agent")));
        // An async route's failure arrives wrapped; answer it as the cause would have been answered.
        app.exception(CompletionException.class, (e, ctx) -> {
            if (e.getCause() instanceof AgentCallException a) {
                write(ctx, fromProtocol(a.error(), "agent"));
            } else if (e.getCause() instanceof ProtocolException p) {
                write(ctx, fromProtocol(p.toErrorData(), null));
            } else if (e.getCause() instanceof ApiException a) {
                write(ctx, a);
            } else if (e.getCause() instanceof MongoException m) {
                storeFailed.accept(m);
                internal(ctx, e);
            } else {
                internal(ctx, e);
            }
        });
        app.exception(HttpResponseException.class, (e, ctx) -> write(ctx, e.getStatus() == 413 ? BodyLimit.tooLarge(MAX_BODY)
                : new ApiException(e.getStatus(),
                e.getStatus() == 404 ? "not_found" : e.getStatus() == 405 ? "method_not_allowed" : "http_" + e.getStatus(),
                e.getStatus() == 404 ? "no such route: " + ctx.method() + " " + ctx.path() : e.getMessage())));
        app.exception(Exception.class, (e, ctx) -> internal(ctx, e));
        // Javalin's own 404 for an unmatched path skips the exception mappers; keep the shape there too.
        app.error(404, ctx -> {
            if (ctx.attribute(CODE_ATTRIBUTE) == null) {
                write(ctx, new ApiException(404, "not_found", "no such route: " + ctx.method() + " " + ctx.path()));
            }
        });
    }

    private static void internal(Context ctx, Exception e) {
        LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
        write(ctx, new ApiException(500, "internal", "internal error; see the Manager's log"));
    }

    static ApiException fromProtocol(ErrorData error, String source) {
        ErrorCode code = error.errorCode();
        int status = switch (code) {
            case BAD_REQUEST, INVALID_DATA, UNKNOWN_COMMAND -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT, BUSY, DUPLICATE_ID -> 409;
            case UNAVAILABLE -> 503;
            case TIMEOUT -> 504;
            case INTERNAL -> source == null ? 500 : 502;
        };
        Map<String, Object> details = new LinkedHashMap<>();
        if (error.field() != null) {
            details.put("field", error.field());
        }
        if (source != null) {
            details.put("source", source);
        }
        details.put("retryable", error.retryable());
        return new ApiException(status, error.code(), error.message(), details);
    }

    static void write(Context ctx, ApiException e) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", e.code());
        body.put("message", e.getMessage());
        body.put("details", e.details());
        ctx.attribute(CODE_ATTRIBUTE, e.code());
        if (e.status() == 413) {
            // The rest of an oversized body is not worth reading: close instead of draining it.
            ctx.header("Connection", "close");
        }
        ctx.status(e.status()).json(Map.of("error", body));
    }

    /** A body that failed to bind: names the field, joining the path of nested objects with dots. */
    static ApiException binding(JsonProcessingException e) {
        ProtocolException cause = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProtocolException p) {
                cause = p;
                break;
            }
        }
        String path = null;
        if (e instanceof JsonMappingException m) {
            StringBuilder sb = new StringBuilder();
            for (JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) {
                    sb.append(sb.isEmpty() ? "" : ".").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    sb.append('[').append(r.getIndex()).append(']');
                }
            }
            path = sb.isEmpty() ? null : sb.toString();
        }
        if (cause != null) {
            String field = cause.field();
            if (path != null && field != null && !path.equals(field) && !path.endsWith("." + field)) {
                field = path + "." + field;
            } else if (field == null) {
                field = path;
            }
            String message = cause.getMessage();
            if (cause.field() != null && message.startsWith(cause.field() + ": ")) {
                message = field + ": " + message.substring(cause.field().length() + 2);
            }
            return fromProtocol(ErrorData.of(cause.code(), message, field), null);
        }
        if (e instanceof JsonMappingException && path != null) {
            return fromProtocol(ErrorData.of(ErrorCode.INVALID_DATA, path + ": has the wrong type or format", path), null);
        }
        return new ApiException(400, "bad_request", "request body is not valid JSON");
    }
}
