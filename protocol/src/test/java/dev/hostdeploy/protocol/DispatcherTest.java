package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** The dispatcher without a socket: what each request is answered, frame by frame, as wire text. */
class DispatcherTest {
    @JsonIgnoreProperties(ignoreUnknown = true)
    record PortData(int port) {
        PortData {
            Validation.require(port >= 1 && port <= 65535, "port", "must be 1-65535");
        }
    }

    final HandlerRegistry registry = new HandlerRegistry();
    /** Pool tasks wait here until the test runs them, so "in flight" is a state the test controls. */
    final List<Runnable> queued = new ArrayList<>();
    final List<Object> events = new CopyOnWriteArrayList<>();
    final List<String> sent = new CopyOnWriteArrayList<>();
    final Dispatcher dispatcher = new Dispatcher(queued::add, events::add, registry);
    final Dispatcher.Session session = dispatcher.open(frame -> sent.add(frame.toJson()));

    DispatcherTest() {
        registry.registerInline("test.echo", CommandContext::data);
        registry.register("test.port", ctx -> ctx.data(PortData.class));
        registry.register("test.nothing", ctx -> null);
        registry.register("test.fail", ctx -> {
            throw new IllegalStateException("secret internal detail /etc/shadow");
        });
        registry.register("test.unwritable", ctx -> new Object());
        registry.register("test.progress", ctx -> {
            ctx.progress(Map.of("step", 1));
            ctx.event(Map.of("type", "test.happened"));
            return Map.of("done", true);
        });
    }

    private void runQueued() {
        List<Runnable> now = new ArrayList<>(queued);
        queued.clear();
        now.forEach(Runnable::run);
    }

    @Test
    void resultIsOneFrameWithTheRequestIdInTheWireFormat() {
        session.receive("{\"id\":\"7\",\"command\":\"test.nothing\"}");
        assertThat(sent).isEmpty();
        runQueued();
        assertThat(sent).containsExactly("{\"id\":\"7\",\"command\":\"result\",\"data\":{}}");
    }

    @Test
    void inlineHandlersAnswerOnTheCallersThreadWithoutThePool() {
        session.receive("{\"id\":\"a\",\"command\":\"test.echo\",\"data\":{\"x\":[1,2]}}");
        assertThat(queued).isEmpty();
        assertThat(sent).containsExactly("{\"id\":\"a\",\"command\":\"result\",\"data\":{\"x\":[1,2]}}");
    }

    @Test
    void unknownCommandIsAnsweredUnknownCommandWithItsId() {
        session.receive("{\"id\":\"1\",\"command\":\"no.such\",\"data\":{}}");
        assertThat(sent).containsExactly("{\"id\":\"1\",\"command\":\"error\",\"data\":"
                + "{\"code\":\"unknown_command\",\"message\":\"unknown command 'no.such'\",\"retryable\":false}}");
    }

    @Test
    void idStillInFlightIsRefusedAndFreedByItsReply() {
        session.dispatch(new Frame.Request("1", "test.nothing", null));
        session.dispatch(new Frame.Request("1", "test.nothing", null));
        assertThat(sent).hasSize(1);
        assertThat(Frame.parse(sent.get(0))).isEqualTo(new Frame.Error("1",
                ErrorData.of(ErrorCode.DUPLICATE_ID, "id '1' is already in flight", null)));
        runQueued();
        session.dispatch(new Frame.Request("1", "test.nothing", null));
        runQueued();
        assertThat(sent).hasSize(3).allSatisfy(s -> assertThat(s).startsWith("{\"id\":\"1\""));
        assertThat(Frame.parse(sent.get(2))).isInstanceOf(Frame.Result.class);
    }

    @Test
    void eachSessionHasItsOwnIds() {
        List<Frame> other = new ArrayList<>();
        session.dispatch(new Frame.Request("1", "test.nothing", null));
        dispatcher.open(other::add).dispatch(new Frame.Request("1", "test.nothing", null));
        runQueued();
        assertThat(sent).hasSize(1);
        assertThat(other).singleElement().isInstanceOf(Frame.Result.class);
    }

    @Test
    void fullPoolAnswersBusyAndRetryable() {
        Dispatcher full = new Dispatcher(r -> {
            throw new RejectedExecutionException("full");
        }, events::add, registry);
        List<Frame> replies = new ArrayList<>();
        Dispatcher.Session s = full.open(replies::add);
        s.dispatch(new Frame.Request("1", "test.nothing", null));
        s.dispatch(new Frame.Request("1", "test.echo", null)); // the busy id was freed
        assertThat(replies).hasSize(2);
        Frame.Error busy = (Frame.Error) replies.get(0);
        assertThat(busy.data().errorCode()).isEqualTo(ErrorCode.BUSY);
        assertThat(busy.data().retryable()).isTrue();
        assertThat(replies.get(1)).isInstanceOf(Frame.Result.class);
    }

    @Test
    void handlerCrashIsAnsweredInternalWithoutDetails() {
        session.dispatch(new Frame.Request("9", "test.fail", null));
        runQueued();
        assertThat(sent).containsExactly("{\"id\":\"9\",\"command\":\"error\",\"data\":"
                + "{\"code\":\"internal\",\"message\":\"internal error in test.fail\",\"retryable\":false}}");
    }

    @Test
    void resultThatCannotBeWrittenIsAnsweredInternal() {
        session.dispatch(new Frame.Request("u", "test.unwritable", null));
        runQueued();
        Frame.Error error = (Frame.Error) Frame.parse(sent.get(0));
        assertThat(error.id()).isEqualTo("u");
        assertThat(error.data().errorCode()).isEqualTo(ErrorCode.INTERNAL);
    }

    @Test
    void badDataIsAnsweredInvalidDataNamingTheField() {
        session.dispatch(new Frame.Request("p", "test.port", Map.of("port", 0)));
        session.dispatch(new Frame.Request("q", "test.port", Map.of("port", "http")));
        runQueued();
        assertThat(sent).containsExactly(
                "{\"id\":\"p\",\"command\":\"error\",\"data\":{\"code\":\"invalid_data\","
                        + "\"message\":\"port: must be 1-65535\",\"retryable\":false,\"field\":\"port\"}}",
                "{\"id\":\"q\",\"command\":\"error\",\"data\":{\"code\":\"invalid_data\","
                        + "\"message\":\"port: has the wrong type or format\",\"retryable\":false,\"field\":\"port\"}}");
    }

    @Test
    void framesThatAreNotRequestsAreAnsweredBadRequestWithANullId() {
        String[] bad = {"not json", "[1]", "{\"command\":\"ping\"}", "{\"id\":\"\",\"command\":\"ping\"}",
                "{\"id\":\"" + "x".repeat(Frame.MAX_ID_LENGTH + 1) + "\",\"command\":\"ping\"}",
                "{\"id\":7,\"command\":\"ping\"}"};
        for (String text : bad) {
            session.receive(text);
        }
        assertThat(sent).hasSize(bad.length).allSatisfy(s -> {
            Frame.Error error = (Frame.Error) Frame.parse(s);
            assertThat(error.id()).isNull();
            assertThat(error.data().errorCode()).isEqualTo(ErrorCode.BAD_REQUEST);
            assertThat(s).startsWith("{\"id\":null,\"command\":\"error\"");
        });
    }

    @Test
    void readableIdIsEchoedWhenTheRestOfTheEnvelopeIsWrong() {
        session.receive("{\"id\":\"1\",\"command\":\"\"}");
        session.receive("{\"id\":\"2\",\"command\":\"test.echo\",\"data\":[1]}");
        session.receive("{\"id\":\"3\",\"command\":\"test.echo\",\"data\":\"text\"}");
        assertThat(sent).containsExactly(
                "{\"id\":\"1\",\"command\":\"error\",\"data\":{\"code\":\"bad_request\","
                        + "\"message\":\"command must be a non-empty string\",\"retryable\":false}}",
                "{\"id\":\"2\",\"command\":\"error\",\"data\":{\"code\":\"invalid_data\","
                        + "\"message\":\"data: must be an object\",\"retryable\":false,\"field\":\"data\"}}",
                "{\"id\":\"3\",\"command\":\"error\",\"data\":{\"code\":\"invalid_data\","
                        + "\"message\":\"data: must be an object\",\"retryable\":false,\"field\":\"data\"}}");
    }

    @Test
    void progressPrecedesTheResultAndEventsGoToTheEventSink() {
        session.dispatch(new Frame.Request("s", "test.progress", null));
        runQueued();
        assertThat(sent).containsExactly("{\"id\":\"s\",\"command\":\"progress\",\"data\":{\"step\":1}}",
                "{\"id\":\"s\",\"command\":\"result\",\"data\":{\"done\":true}}");
        assertThat(events).containsExactly(Map.of("type", "test.happened"));
        assertThat(new Frame.Event(events.get(0)).toJson())
                .isEqualTo("{\"id\":null,\"command\":\"event\",\"data\":{\"type\":\"test.happened\"}}");
    }

    @Test
    void recordingContextServesThroughTheDispatcher() {
        RecordingContext ctx = new RecordingContext("test.progress", null);
        JsonNode result = ctx.dispatch(registry);
        assertThat(result.get("done").asBoolean()).isTrue();
        assertThat(ctx.progressText()).isEqualTo("{\"step\":1}");
        assertThat(ctx.events).singleElement().satisfies(e -> assertThat(e.get("type").asText()).isEqualTo("test.happened"));
        assertThatThrownBy(() -> new RecordingContext("test.port", Map.of("port", 70000)).dispatch(registry))
                .isInstanceOfSatisfying(AgentCallException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.error().field()).isEqualTo("port");
                });
    }

    @Test
    void recordingContextBindsAsTheDispatcherDoes() {
        assertThatThrownBy(() -> new RecordingContext("test.port", Map.of("port", 0)).data(PortData.class))
                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.field()).isEqualTo("port"));
        assertThat(new RecordingContext("test.port", Map.of("port", 80)).data(PortData.class).port()).isEqualTo(80);
    }

    @Test
    void clientReadsEachReplyAsItsType() {
        assertThat(Frame.parse("{\"id\":\"1\",\"command\":\"result\",\"data\":{\"a\":1}}"))
                .isInstanceOfSatisfying(Frame.Result.class, r -> assertThat(r.dataTree().get("a").asInt()).isEqualTo(1));
        assertThat(Frame.parse("{\"id\":\"1\",\"command\":\"progress\",\"data\":{}}")).isInstanceOf(Frame.Progress.class);
        assertThat(Frame.parse("{\"id\":null,\"command\":\"event\",\"data\":{}}")).isInstanceOf(Frame.Event.class);
        assertThat(Frame.parse("{\"id\":\"1\",\"command\":\"error\",\"data\":{\"code\":\"busy\",\"message\":\"m\",\"retryable\":true}}"))
                .isEqualTo(new Frame.Error("1", ErrorData.of(ErrorCode.BUSY, "m", null)));
        assertThat(((Frame.Error) Frame.parse("{\"id\":\"1\",\"command\":\"error\",\"data\":42}")).data())
                .isEqualTo(ErrorData.of(ErrorCode.INTERNAL, "unreadable error reply", null));
        assertThat(new Frame.Request("2", "ping", null).toJson()).isEqualTo("{\"id\":\"2\",\"command\":\"ping\",\"data\":{}}");
    }
}
