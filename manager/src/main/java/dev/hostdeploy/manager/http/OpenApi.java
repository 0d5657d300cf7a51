package dev.hostdeploy.manager.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.manager.store.ManagerJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the OpenAPI 3 document from the same route table Javalin is given, with the schemas kept in
 * {@code openapi-schemas.json}. A test checks it against the routes Javalin actually registered.
 */
final class OpenApi {
    private static final Pattern PATH_PARAM = Pattern.compile("\\{([a-zA-Z]+)}");

    private OpenApi() {
    }

    static ObjectNode document(List<Route> routes, String version) {
        ObjectNode doc = ManagerJson.MAPPER.createObjectNode();
        doc.put("openapi", "3.0.3");
        ObjectNode info = doc.putObject("info");
        info.put("title", "hostdeploy Manager API");
        info.put("version", version);
        info.put("description", "Errors are always {\"error\": {\"code\", \"message\", \"details\"}}.");
        ObjectNode components = doc.putObject("components");
        ObjectNode bearer = components.putObject("securitySchemes").putObject("bearer");
        bearer.put("type", "http");
        bearer.put("scheme", "bearer");
        components.set("schemas", schemas());
        ObjectNode paths = doc.putObject("paths");
        for (Route r : routes) {
            ObjectNode path = paths.has(r.path()) ? (ObjectNode) paths.get(r.path()) : paths.putObject(r.path());
            ObjectNode op = path.putObject(r.method().name().toLowerCase());
            op.put("operationId", r.operationId());
            op.put("summary", r.summary());
            String[] segments = r.path().split("/");
            op.putArray("tags").add(segments[r.path().startsWith(Route.API + "/") ? 3 : 1].replace(".json", ""));
            if (r.access() != Route.Access.PUBLIC) {
                op.putArray("security").addObject().putArray("bearer");
                if (r.access() != Route.Access.MEMBER) {
                    op.put("description", "Needs the admin role" + (r.access() == Route.Access.METRICS
                            ? " or the dedicated metrics token." : "."));
                }
            } else {
                op.putArray("security");
            }
            ArrayNode params = op.putArray("parameters");
            Matcher m = PATH_PARAM.matcher(r.path());
            while (m.find()) {
                ObjectNode p = params.addObject();
                p.put("name", m.group(1));
                p.put("in", "path");
                p.put("required", true);
                ObjectNode schema = p.putObject("schema");
                schema.put("type", "string");
                if (m.group(1).equals("agent")) {
                    schema.putArray("enum").add("worker").add("guardian");
                }
            }
            for (Route.Param q : r.query()) {
                ObjectNode p = params.addObject();
                p.put("name", q.name());
                p.put("in", "query");
                p.put("required", false);
                p.put("description", q.description());
                ObjectNode schema = p.putObject("schema");
                if (q.type().equals("date-time")) {
                    schema.put("type", "string");
                    schema.put("format", "date-time");
                } else {
                    schema.put("type", q.type());
                }
            }
            if (r.request() != null) {
                ObjectNode body = op.putObject("requestBody");
                body.put("required", true);
                body.putObject("content").putObject("application/json").set("schema", ref(r.request()));
            }
            ObjectNode responses = op.putObject("responses");
            ObjectNode ok = responses.putObject(Integer.toString(r.status()));
            ok.put("description", r.status() == 204 ? "done" : "success");
            if ("text".equals(r.response())) {
                ok.putObject("content").putObject("text/plain").putObject("schema").put("type", "string");
            } else if (r.response() != null) {
                ok.putObject("content").putObject("application/json").set("schema", ref(r.response()));
            }
            if (r.request() != null || !r.query().isEmpty() || r.path().contains("{")) {
                error(responses, 400, "invalid input; details.field names the field");
            }
            if (r.access() != Route.Access.PUBLIC) {
                error(responses, 401, "missing, invalid or revoked token");
                error(responses, 429, "too many failed authentications from this address (see Retry-After)");
            }
            if (r.access() == Route.Access.ADMIN || r.access() == Route.Access.METRICS) {
                error(responses, 403, "the token's user is not an admin");
            }
            if (r.path().contains("{")) {
                error(responses, 404, "no such object");
            }
            if (r.mutating()) {
                error(responses, 409, "conflicts with the current state");
            }
            if (r.operationId().equals("getHealth")) {
                error(responses, 503, "the database is not reachable");
            }
            if (r.operationId().equals("callAgent")) {
                error(responses, 502, "the agent failed internally");
                error(responses, 503, "the agent is not connected");
                error(responses, 504, "the agent did not answer in time");
            }
        }
        return doc;
    }

    private static void error(ObjectNode responses, int status, String description) {
        ObjectNode e = responses.putObject(Integer.toString(status));
        e.put("description", description);
        e.putObject("content").putObject("application/json").set("schema", ref("Error"));
    }

    private static ObjectNode ref(String schema) {
        ObjectNode node = ManagerJson.MAPPER.createObjectNode();
        if (schema.equals("object")) {
            node.put("type", "object");
        } else if (schema.endsWith("[]")) {
            node.put("type", "array");
            node.putObject("items").put("$ref", "#/components/schemas/" + schema.substring(0, schema.length() - 2));
        } else {
            node.put("$ref", "#/components/schemas/" + schema);
        }
        return node;
    }

    private static JsonNode schemas() {
        try (InputStream in = OpenApi.class.getResourceAsStream("openapi-schemas.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi-schemas.json missing from the jar");
            }
            return ManagerJson.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
