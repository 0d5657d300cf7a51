package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.util.stream.Collectors;

/** Turns request data into wire records, and binding failures into {@code invalid_data} naming the field. */
final class Binding {
    private Binding() {
    }

    static <T> T bind(JsonNode data, Class<T> type) {
        try {
            return Json.MAPPER.treeToValue(data, type);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ProtocolException pe) {
                throw pe;
            }
            String field = field(e);
            String message = cause != null && cause.getMessage() != null ? cause.getMessage() : "invalid value";
            throw new ProtocolException(ErrorCode.INVALID_DATA, field == null ? message : field + ": " + message, field);
        } catch (JsonMappingException e) {
            String field = field(e);
            String message = "has the wrong type or format";
            throw new ProtocolException(ErrorCode.INVALID_DATA,
                    (field == null ? "data" : field) + ": " + message, field == null ? "data" : field);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.INVALID_DATA, e.getMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.INVALID_DATA, "data could not be read");
        }
    }

    private static String field(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."))
                .replace(".[", "[");
        return path.isEmpty() ? null : path;
    }
}
