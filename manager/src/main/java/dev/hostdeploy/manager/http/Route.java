package dev.hostdeploy.manager.http;

import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.util.List;

/**
 * One API route: registered with Javalin and described in the OpenAPI document from this same record.
 * {@code response} names a schema ("User", "User[]" for a list, "text" for plain text, null for none).
 */
record Route(HandlerType method, String path, Auth.Access access, String operationId, String summary,
             String action, String request, String response, int status, List<Param> query, Handler handler) {

    record Param(String name, String type, String description) {
    }

    boolean mutating() {
        return method == HandlerType.POST || method == HandlerType.PUT || method == HandlerType.PATCH
                || method == HandlerType.DELETE;
    }
}
