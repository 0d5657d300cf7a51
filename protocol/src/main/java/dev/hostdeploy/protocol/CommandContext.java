package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/** What a handler sees of one request. */
public interface CommandContext {
    String id();

    String command();

    /** The request's data: an object node, empty when the request had none. */
    JsonNode data();

    /**
     * Binds the data to a wire record. Type mismatches and failed compact-constructor checks are
     * thrown as {@code invalid_data} naming the field.
     */
    <T> T data(Class<T> type);

    /** Sends a {@code progress} frame for this request. */
    void progress(Object data);

    /** Sends an {@code event} frame (id null) to the connected Manager, if any. */
    void event(Object data);
}
