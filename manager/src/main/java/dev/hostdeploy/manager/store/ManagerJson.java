package dev.hostdeploy.manager.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.hostdeploy.protocol.Json;

/** The protocol's Jackson configuration plus ISO-8601 times, for the REST API and stored documents. */
public final class ManagerJson {
    public static final ObjectMapper MAPPER = Json.MAPPER.copy()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    /**
     * For request bodies only: what a client sent must be what it meant. No scalar coercion ({@code 123}
     * is not the name "123", {@code "5"} not the number 5, {@code true} not a string) and nothing after
     * the one JSON value.
     */
    public static final ObjectMapper REQUESTS = strict();

    private static ObjectMapper strict() {
        JsonMapper mapper = ((JsonMapper) MAPPER).rebuild()
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        // ALLOW_COERCION_OF_SCALARS leaves number/boolean to String alone; refuse those explicitly.
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }

    private ManagerJson() {
    }
}
