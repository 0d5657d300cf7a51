package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * A request as a handler sees it, for tests that call handlers directly. It is the {@link Dispatcher}'s
 * own request context (binding failures become invalid_data naming the field), and it records the
 * progress and event frames the agent would send, after a round trip through their wire text.
 * {@link #dispatch} runs the whole request through a real Dispatcher instead.
 */
public final class RecordingContext implements CommandContext {
    private final Frame.Request request;
    private final CommandContext context;
    public final List<JsonNode> progress = new CopyOnWriteArrayList<>();
    public final List<JsonNode> events = new CopyOnWriteArrayList<>();

    public RecordingContext(String command, Object data) {
        this.request = new Frame.Request("test-1", command,
                data == null ? Json.MAPPER.createObjectNode() : Json.MAPPER.valueToTree(data));
        this.context = Dispatcher.context(request, this::record, this::recordEvent);
    }

    @Override
    public String id() {
        return context.id();
    }

    @Override
    public String command() {
        return context.command();
    }

    @Override
    public JsonNode data() {
        return context.data();
    }

    @Override
    public <T> T data(Class<T> type) {
        return context.data(type);
    }

    @Override
    public void progress(Object data) {
        context.progress(data);
    }

    @Override
    public void event(Object data) {
        context.event(data);
    }

    /** All progress frames, one JSON object a line: what a Manager would have streamed. */
    public String progressText() {
        return progress.stream().map(JsonNode::toString).collect(Collectors.joining("\n"));
    }

    /**
     * Serves this request with a real {@link Dispatcher} over {@code registry}, pool handlers on the
     * calling thread, and returns the result's data as the Manager reads it; an error reply is thrown as
     * the {@link AgentCallException} the Manager's call would fail with. Progress and events are recorded.
     */
    public JsonNode dispatch(HandlerRegistry registry) {
        AtomicReference<Frame> last = new AtomicReference<>();
        Dispatcher dispatcher = new Dispatcher(Runnable::run, this::recordEvent, registry);
        dispatcher.open(frame -> {
            Frame read = Frame.parse(frame.toJson());
            if (read instanceof Frame.Progress) {
                progress.add(read.dataTree());
            } else {
                last.set(read);
            }
        }).dispatch(request);
        Frame reply = last.get();
        if (reply instanceof Frame.Error error) {
            throw new AgentCallException(error.data());
        }
        if (!(reply instanceof Frame.Result)) {
            throw new AssertionError("no final reply to " + request.command() + ": " + reply);
        }
        return reply.dataTree();
    }

    private void record(Frame frame) {
        Frame read = Frame.parse(frame.toJson());
        if (read instanceof Frame.Progress) {
            progress.add(read.dataTree());
        } else {
            throw new AssertionError("a handler sent " + frame.command() + " itself");
        }
    }

    private void recordEvent(Object data) {
        events.add(Frame.parse(new Frame.Event(data).toJson()).dataTree());
    }
}
