package dev.hostdeploy.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * One frame on the wire, {@code {"id", "command", "data"}}, as both ends read and write it: a request
 * (Manager to agent) or one of the four replies. Outgoing data is serialized straight from the object
 * it is (a record, a Map, a JsonNode), without a tree in between; decoded frames carry JsonNode data.
 */
public sealed interface Frame permits Frame.Request, Frame.Result, Frame.Error, Frame.Progress, Frame.Event {
    String RESULT = "result";
    String ERROR = "error";
    String PROGRESS = "progress";
    String EVENT = "event";
    /** The longest request id an agent accepts. */
    int MAX_ID_LENGTH = 128;

    /** Null only for events and for errors about a frame whose id could not be read. */
    String id();

    String command();

    Object data();

    /** The data as a tree (what a decoded frame already holds). */
    default JsonNode dataTree() {
        Object data = data();
        return data instanceof JsonNode node ? node : data == null ? NullNode.getInstance() : Json.MAPPER.valueToTree(data);
    }

    /** The frame as wire text; {@link EncodingException} when its data cannot be serialized. */
    default String toJson() {
        try {
            return Json.MAPPER.writeValueAsString(new FrameCodec.Envelope(id(), command(), data()));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new EncodingException(this, e);
        }
    }

    /**
     * Reads a frame as a client does: a reply or an event by its command, anything else as a request.
     * Fails with {@code bad_request} when the text is not a frame.
     */
    static Frame parse(String text) {
        return FrameCodec.parse(text);
    }

    static Frame parse(CharSequence text) {
        return FrameCodec.parse(text);
    }

    /** A command sent to an agent. */
    record Request(String id, String command, Object data) implements Frame {
        public Request {
            if (command == null || command.isBlank()) {
                throw new IllegalArgumentException("command is required");
            }
            if (data == null) {
                data = Json.MAPPER.createObjectNode();
            }
        }

        /**
         * Reads a request as an agent does: id a string of 1-{@value #MAX_ID_LENGTH} characters,
         * command a non-empty string, data an object (an empty one when absent or null). Fails with
         * {@code bad_request} naming what is wrong, or {@code invalid_data} (field {@code data}) when
         * only the data is not an object.
         */
        public static Request parse(String text) {
            return FrameCodec.parseRequest(text);
        }
    }

    /** The final successful reply to request {@code id}. */
    record Result(String id, Object data) implements Frame {
        @Override
        public String command() {
            return RESULT;
        }
    }

    /** The final failed reply to request {@code id} (null id when the request could not be read). */
    record Error(String id, ErrorData data) implements Frame {
        public Error {
            if (data == null) {
                throw new IllegalArgumentException("error data is required");
            }
        }

        @Override
        public String command() {
            return ERROR;
        }
    }

    /** Any number of these may precede the final reply to request {@code id}. */
    record Progress(String id, Object data) implements Frame {
        @Override
        public String command() {
            return PROGRESS;
        }
    }

    /** Sent by an agent at any time, not tied to a request. */
    record Event(Object data) implements Frame {
        @Override
        public String id() {
            return null;
        }

        @Override
        public String command() {
            return EVENT;
        }
    }

    /** The data of a frame could not be serialized (a handler returned something Jackson cannot write). */
    final class EncodingException extends RuntimeException {
        private final transient Frame frame;

        EncodingException(Frame frame, Exception cause) {
            super("cannot serialize the data of a " + frame.command() + " frame", cause);
            this.frame = frame;
        }

        public Frame frame() {
            return frame;
        }
    }
}
