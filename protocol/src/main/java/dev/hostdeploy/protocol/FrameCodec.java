package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.CharBuffer;

/** Reading and writing {@link Frame}s: the envelope checks both ends share. */
final class FrameCodec {
    private FrameCodec() {
    }

    /** What goes on the wire, in this field order; nulls are written (an event's id is null). */
    record Envelope(String id, String command, Object data) {
    }

    static Frame parse(String text) {
        return parse(tree(text));
    }

    /**
     * As {@link #parse(String)}, from the characters a WebSocket decoded: a heap buffer is read in place,
     * without a String copy (most replies arrive as one such buffer).
     */
    static Frame parse(CharSequence text) {
        if (!(text instanceof CharBuffer chars && chars.hasArray())) {
            return parse(text.toString());
        }
        JsonNode frame;
        try {
            frame = Json.MAPPER.readTree(Json.MAPPER.getFactory().createParser(chars.array(),
                    chars.arrayOffset() + chars.position(), chars.remaining()));
        } catch (Exception e) {
            throw bad("frame is not valid JSON");
        }
        return parse(checked(frame));
    }

    private static Frame parse(JsonNode frame) {
        JsonNode idNode = frame.get("id");
        JsonNode commandNode = frame.get("command");
        if (commandNode == null || !commandNode.isTextual() || commandNode.asText().isEmpty()) {
            throw bad("command must be a non-empty string");
        }
        if (idNode != null && !idNode.isNull() && !idNode.isTextual()) {
            throw bad("id must be a string or null");
        }
        String id = idNode == null || idNode.isNull() ? null : idNode.asText();
        JsonNode data = frame.get("data");
        return switch (commandNode.asText()) {
            case Frame.RESULT -> new Frame.Result(id, data);
            case Frame.ERROR -> new Frame.Error(id, errorData(data));
            case Frame.PROGRESS -> new Frame.Progress(id, data);
            case Frame.EVENT -> new Frame.Event(data);
            default -> new Frame.Request(id, commandNode.asText(), data);
        };
    }

    static Frame.Request parseRequest(String text) {
        JsonNode frame = tree(text);
        JsonNode idNode = frame.get("id");
        JsonNode commandNode = frame.get("command");
        JsonNode data = frame.get("data");
        if (idNode == null || !idNode.isTextual() || idNode.asText().isEmpty()
                || idNode.asText().length() > Frame.MAX_ID_LENGTH) {
            throw bad("id must be a non-empty string of at most " + Frame.MAX_ID_LENGTH + " characters");
        }
        // From here on the id is readable: the reply carries it, so the caller fails at once instead
        // of waiting out its timeout.
        String id = idNode.asText();
        if (commandNode == null || !commandNode.isTextual() || commandNode.asText().isEmpty()) {
            throw new UnreadableRequest(id, new ProtocolException(ErrorCode.BAD_REQUEST,
                    "command must be a non-empty string"));
        }
        if (data != null && !data.isNull() && !data.isObject()) {
            throw new UnreadableRequest(id, ProtocolException.invalid("data", "must be an object"));
        }
        return new Frame.Request(idNode.asText(), commandNode.asText(),
                data == null || data.isNull() ? Json.MAPPER.createObjectNode() : data);
    }

    /** A request whose id could be read but whose envelope is wrong: answered with that id. */
    static final class UnreadableRequest extends ProtocolException {
        private final String id;

        UnreadableRequest(String id, ProtocolException cause) {
            super(cause.code(), cause.getMessage(), cause.field());
            this.id = id;
        }

        String id() {
            return id;
        }
    }

    private static JsonNode tree(String text) {
        JsonNode frame;
        try {
            frame = Json.MAPPER.readTree(text);
        } catch (Exception e) {
            throw bad("frame is not valid JSON");
        }
        return checked(frame);
    }

    private static JsonNode checked(JsonNode frame) {
        if (frame == null || !frame.isObject()) {
            throw bad("frame must be a JSON object {\"id\", \"command\", \"data\"}");
        }
        return frame;
    }

    private static ErrorData errorData(JsonNode data) {
        try {
            ErrorData error = Json.MAPPER.treeToValue(data, ErrorData.class);
            if (error != null) {
                return error;
            }
        } catch (Exception e) {
            // falls through: a peer's broken error is still an error
        }
        return ErrorData.of(ErrorCode.INTERNAL, "unreadable error reply", null);
    }

    private static ProtocolException bad(String problem) {
        return new ProtocolException(ErrorCode.BAD_REQUEST, problem);
    }
}
