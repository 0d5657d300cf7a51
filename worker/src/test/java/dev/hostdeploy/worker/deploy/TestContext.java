package dev.hostdeploy.worker.deploy;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * A request as a handler sees it, for calling handlers directly: binds data the way the agent server
 * does (failures become invalid_data naming the field) and records progress frames as JSON.
 */
final class TestContext implements CommandContext {
    private final String command;
    private final JsonNode data;
    final List<JsonNode> progress = new CopyOnWriteArrayList<>();
    final List<JsonNode> events = new CopyOnWriteArrayList<>();

    TestContext(String command, Object data) {
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
        try {
            return Json.MAPPER.treeToValue(data, type);
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof ProtocolException pe) {
                throw pe;
            }
            throw new ProtocolException(ErrorCode.INVALID_DATA, String.valueOf(e.getCause()), field(e));
        } catch (JsonMappingException e) {
            throw new ProtocolException(ErrorCode.INVALID_DATA, "wrong type", field(e));
        } catch (Exception e) {
            throw new ProtocolException(ErrorCode.INVALID_DATA, "unreadable");
        }
    }

    private static String field(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    @Override
    public void progress(Object data) {
        progress.add(Json.MAPPER.valueToTree(data));
    }

    @Override
    public void event(Object data) {
        events.add(Json.MAPPER.valueToTree(data));
    }

    String progressText() {
        return progress.stream().map(JsonNode::toString).collect(Collectors.joining("\n"));
    }
}
