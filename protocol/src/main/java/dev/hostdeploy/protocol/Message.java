package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

/** One frame on the wire: {@code {"id", "command", "data"}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Message(String id, String command, JsonNode data) {
    public static final String RESULT = "result";
    public static final String ERROR = "error";
    public static final String PROGRESS = "progress";
    public static final String EVENT = "event";

    public Message {
        if (command == null || command.isBlank()) {
            throw new IllegalArgumentException("command is required");
        }
    }
}
