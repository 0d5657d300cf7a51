package dev.hostdeploy.manager.http;

import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One API route: registered with Javalin and described in the OpenAPI document from this same value.
 * Built with {@code Route.get(API + "/users/{id}").admin().doc("getUser", "One user").returns("User").handle(...)}.
 * {@code response} names a schema ("User", "User[]" for a list, "text" for plain text, null for none).
 * A request body must be declared {@code application/json} (415 otherwise), unless the route
 * {@code acceptsForm} (a webhook whose sender posts form-encoded payloads).
 */
public record Route(HandlerType method, String path, Access access, String operationId, String summary,
                    String action, String request, String response, int status, List<Param> query,
                    Handler handler, boolean acceptsForm) {
    /** The base path of the versioned API. */
    public static final String API = "/api/v1";

    /** Who may call a route. METRICS: an admin, or the dedicated metrics token. */
    public enum Access {
        PUBLIC, MEMBER, ADMIN, METRICS
    }

    public record Param(String name, String type, String description) {
    }

    public Route {
        Objects.requireNonNull(operationId, "operationId");
        Objects.requireNonNull(handler, "handler");
        query = List.copyOf(query);
    }

    public boolean mutating() {
        return method == HandlerType.POST || method == HandlerType.PUT || method == HandlerType.PATCH
                || method == HandlerType.DELETE;
    }

    public static Builder get(String path) {
        return new Builder(HandlerType.GET, path);
    }

    public static Builder post(String path) {
        return new Builder(HandlerType.POST, path);
    }

    public static Builder put(String path) {
        return new Builder(HandlerType.PUT, path);
    }

    public static Builder patch(String path) {
        return new Builder(HandlerType.PATCH, path);
    }

    public static Builder delete(String path) {
        return new Builder(HandlerType.DELETE, path);
    }

    public static final class Builder {
        private final HandlerType method;
        private final String path;
        private Access access = Access.ADMIN;
        private String operationId;
        private String summary;
        private String action;
        private String request;
        private String response;
        private int status = 200;
        private final List<Param> query = new ArrayList<>();
        private boolean acceptsForm;

        private Builder(HandlerType method, String path) {
            this.method = method;
            this.path = path;
        }

        /** Open to anyone, without a token. */
        public Builder open() {
            access = Access.PUBLIC;
            return this;
        }

        public Builder member() {
            access = Access.MEMBER;
            return this;
        }

        /** The default. */
        public Builder admin() {
            access = Access.ADMIN;
            return this;
        }

        public Builder metrics() {
            access = Access.METRICS;
            return this;
        }

        public Builder doc(String operationId, String summary) {
            this.operationId = operationId;
            this.summary = summary;
            return this;
        }

        /** The audit action of a mutating route, e.g. {@code user.create}. */
        public Builder audit(String action) {
            this.action = action;
            return this;
        }

        public Builder body(String schema) {
            this.request = schema;
            return this;
        }

        public Builder returns(String schema) {
            this.response = schema;
            return this;
        }

        public Builder returns(int status, String schema) {
            this.status = status;
            this.response = schema;
            return this;
        }

        public Builder noContent() {
            this.status = 204;
            this.response = null;
            return this;
        }

        public Builder query(String name, String type, String description) {
            query.add(new Param(name, type, description));
            return this;
        }

        /** Also accept {@code application/x-www-form-urlencoded} bodies (e.g. a GitHub webhook). */
        public Builder acceptsForm() {
            this.acceptsForm = true;
            return this;
        }

        public Route handle(Handler handler) {
            return new Route(method, path, access, operationId, summary, action, request, response, status, query,
                    handler, acceptsForm);
        }
    }
}
