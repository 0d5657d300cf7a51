package dev.hostdeploy.manager.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.hostdeploy.protocol.Json;

/** The protocol's Jackson configuration plus ISO-8601 times, for the REST API and stored documents. */
public final class ManagerJson {
    public static final ObjectMapper MAPPER = Json.MAPPER.copy()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private ManagerJson() {
    }
}
