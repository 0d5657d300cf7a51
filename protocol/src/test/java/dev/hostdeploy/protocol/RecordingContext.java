package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * A request as a handler sees it, for tests that call handlers directly: binds data exactly as the agent
 * server does (failures become invalid_data naming the field) and records progress and event frames.
 */
public final class RecordingContext implements CommandContext {
    private final String command;
    private final JsonNode data;
    public final List<JsonNode> progress = new CopyOnWriteArrayList<>();
    public final List<JsonNode> events = new CopyOnWriteArrayList<>();

    public RecordingContext(String command, Object data) {
        this.command = command;
        this.data = data == null ? Json.MAPPER.createObjectNode() : Json.MAPPER.valueToTree(data);
    }

    @Override
    public String id() {
        return "test-1";
    }

    @Override
    public String command() {
        return command;
    }

    @Override
    public JsonNode data() {
        return data;
    }

    @Override
    public <T> T data(Class<T> type) {
        return Binding.bind(data, type);
    }

    @Override
    public void progress(Object data) {
        progress.add(Json.MAPPER.valueToTree(data));
    }

    @Override
    public void event(Object data) {
        events.add(Json.MAPPER.valueToTree(data));
    }

    /** All progress frames, one JSON object a line: what a Manager would have streamed. */
    public String progressText() {
        return progress.stream().map(JsonNode::toString).collect(Collectors.joining("\n"));
    }
}
