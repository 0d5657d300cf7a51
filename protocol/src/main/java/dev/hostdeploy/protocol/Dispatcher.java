package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves requests from a {@link HandlerRegistry}, independent of any transport: binds data, refuses
 * unknown commands and ids already in flight, runs inline handlers on the caller's thread and the rest
 * on a pool (a full pool answers {@code busy}), and turns every outcome into exactly one final reply
 * frame. {@link AgentServer} feeds it WebSocket text; tests feed it requests directly.
 */
public final class Dispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    private final Executor pool;
    private final Consumer<Object> events;
    private final List<HandlerRegistry> registries;

    /**
     * @param pool runs handlers registered with {@link HandlerRegistry#register}; when it rejects a task
     *     the request is answered {@code busy}
     * @param events where a handler's {@link CommandContext#event} goes (the agent sends it to the
     *     connected Manager)
     * @param registries looked up in order: the first that has a command serves it
     */
    public Dispatcher(Executor pool, Consumer<Object> events, HandlerRegistry... registries) {
        this.pool = pool;
        this.events = events;
        this.registries = List.of(registries);
    }

    /** Starts a session: one connection's in-flight ids, its replies going to {@code replies}. */
    public Session open(Consumer<Frame> replies) {
        return new Session(replies);
    }

    private Optional<HandlerRegistry.Entry> find(String command) {
        for (HandlerRegistry r : registries) {
            Optional<HandlerRegistry.Entry> e = r.find(command);
            if (e.isPresent()) {
                return e;
            }
        }
        return Optional.empty();
    }

    /**
     * One connection's requests. The reply sink may throw {@link Frame.EncodingException} (from
     * {@link Frame#toJson()}) for a result it cannot write: the request is then answered {@code internal}.
     */
    public final class Session {
        private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
        private final Consumer<Frame> replies;

        private Session(Consumer<Frame> replies) {
            this.replies = replies;
        }

        /**
         * Reads one text frame and dispatches it. A frame that is not a request is answered
         * {@code bad_request} (with a null id unless its id could be read); a readable request whose
         * data is not an object is answered {@code invalid_data} with its id.
         */
        public void receive(String text) {
            Frame.Request request;
            try {
                request = Frame.Request.parse(text);
            } catch (ProtocolException e) {
                String id = e instanceof FrameCodec.UnreadableRequest u ? u.id() : null;
                replies.accept(new Frame.Error(id, e.toErrorData()));
                return;
            }
            dispatch(request);
        }

        /** Serves one request; its final reply goes to the sink, now (inline) or later (pool). */
        public void dispatch(Frame.Request request) {
            String id = request.id();
            Optional<HandlerRegistry.Entry> entry = find(request.command());
            if (entry.isEmpty()) {
                replies.accept(error(id, ErrorCode.UNKNOWN_COMMAND, "unknown command '" + request.command() + "'"));
                return;
            }
            if (!inFlight.add(id)) {
                replies.accept(error(id, ErrorCode.DUPLICATE_ID, "id '" + id + "' is already in flight"));
                return;
            }
            RequestContext ctx = new RequestContext(request, replies, events);
            CommandHandler handler = entry.get().handler();
            if (entry.get().inline()) {
                run(ctx, handler);
                return;
            }
            try {
                pool.execute(() -> run(ctx, handler));
            } catch (RejectedExecutionException e) {
                inFlight.remove(id);
                replies.accept(error(id, ErrorCode.BUSY, "agent is at its request limit"));
            }
        }

        private void run(RequestContext ctx, CommandHandler handler) {
            Frame reply;
            try {
                Object result = handler.handle(ctx);
                reply = new Frame.Result(ctx.id(), result == null ? Map.of() : result);
            } catch (ProtocolException e) {
                reply = new Frame.Error(ctx.id(), e.toErrorData());
            } catch (Exception | java.lang.Error e) {
                // Details stay in the agent's log; the wire gets no stack trace.
                LOG.error("command {} (id {}) failed", LogSafe.of(ctx.command()), LogSafe.of(ctx.id()), e);
                reply = internal(ctx);
            }
            inFlight.remove(ctx.id());
            try {
                replies.accept(reply);
            } catch (Frame.EncodingException e) {
                LOG.error("result of {} (id {}) cannot be serialized", LogSafe.of(ctx.command()), LogSafe.of(ctx.id()), e);
                replies.accept(internal(ctx));
            }
        }
    }

    private static Frame.Error internal(CommandContext ctx) {
        return error(ctx.id(), ErrorCode.INTERNAL, "internal error in " + ctx.command());
    }

    private static Frame.Error error(String id, ErrorCode code, String message) {
        return new Frame.Error(id, ErrorData.of(code, message, null));
    }

    /** What a handler sees of one request: the same class whether it came over the wire or from a test. */
    static CommandContext context(Frame.Request request, Consumer<Frame> replies, Consumer<Object> events) {
        return new RequestContext(request, replies, events);
    }

    private static final class RequestContext implements CommandContext {
        private final String id;
        private final String command;
        private final JsonNode data;
        private final Consumer<Frame> replies;
        private final Consumer<Object> events;

        RequestContext(Frame.Request request, Consumer<Frame> replies, Consumer<Object> events) {
            this.id = request.id();
            this.command = request.command();
            this.data = request.dataTree();
            this.replies = replies;
            this.events = events;
        }

        @Override
        public String id() {
            return id;
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
        public void progress(Object progress) {
            replies.accept(new Frame.Progress(id, progress));
        }

        @Override
        public void event(Object event) {
            events.accept(event);
        }
    }
}
