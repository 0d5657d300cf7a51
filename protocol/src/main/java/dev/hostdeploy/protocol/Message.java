package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

/** One frame on the wire: {@code {"id", "command", "data"}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
record Message(String id, String command, JsonNode data) {
    static final String RESULT = "result";
    static final String ERROR = "error";
    static final String PROGRESS = "progress";
    static final String EVENT = "event";

    public Message {
        if (command == null || command.isBlank()) {
            throw new IllegalArgumentException("command is required");
        }
    }
}
