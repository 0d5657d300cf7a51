package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.testing.TestIdentities;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class AgentConnectionTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    AgentFixture agent;
    final List<AutoCloseable> closeLater = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeLater) {
            c.close();
        }
        agent.close();
    }

    private <T extends AutoCloseable> T later(T c) {
        closeLater.add(c);
        return c;
    }

    private static AgentCallException failure(CompletableFuture<?> f) {
        try {
            f.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(AgentCallException.class);
            return (AgentCallException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("call succeeded but should have failed");
    }

    @Test
    void trustedManagerCallsPing() throws Exception {
        AgentClient client = later(agent.connected());
        long before = System.currentTimeMillis();
        JsonNode reply = client.call("ping", null).get(10, TimeUnit.SECONDS);
        assertThat(reply.get("time").asLong()).isBetween(before - 1000, System.currentTimeMillis() + 1000);
    }

    @Test
    void infoNamesKindVersionFingerprintAndCommands() throws Exception {
        AgentClient client = later(agent.connected());
        JsonNode info = client.call("info", null).get(10, TimeUnit.SECONDS);
        assertThat(info.get("kind").asText()).isEqualTo("test-agent");
        assertThat(info.get("version").asText()).isEqualTo("1.2.3");
        assertThat(info.get("protocolVersion").asInt()).isEqualTo(1);
        assertThat(info.get("fingerprint").asText()).isEqualTo(ids.get("agent").fingerprint());
        assertThat(info.get("hostname").asText()).isNotBlank();
        List<String> commands = new ArrayList<>();
        info.get("commands").forEach(c -> commands.add(c.asText()));
        assertThat(commands).contains("ping", "info", "test.echo", "test.slow");
    }

    @Test
    void agentRefusesSecondManagerConnectionWhileFirstKeepsWorking() throws Exception {
        AgentClient first = later(agent.connected());
        RawManager second = new RawManager(agent.port, ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())));
        second.connectBlocking(10, TimeUnit.SECONDS);
        assertThat(second.closeCode.get(10, TimeUnit.SECONDS)).isEqualTo(AgentServer.CLOSE_SLOT_TAKEN);
        assertThat(first.call("test.echo", Map.of("still", "here")).get(10, TimeUnit.SECONDS).get("still").asText())
                .isEqualTo("here");
    }

    @Test
    void malformedJsonIsAnsweredBadRequestAndTheConnectionLivesOn() throws Exception {
        RawManager raw = rawManager();
        raw.send("{not json");
        JsonNode reply = raw.next();
        assertThat(reply.get("id").isNull()).isTrue();
        assertThat(reply.get("command").asText()).isEqualTo("error");
        assertThat(reply.at("/data/code").asText()).isEqualTo("bad_request");
        raw.send("{\"command\":\"ping\"}");
        assertThat(raw.next().at("/data/code").asText()).isEqualTo("bad_request");
        raw.send("{\"id\":\"a\",\"command\":\"ping\",\"data\":{}}");
        JsonNode pong = raw.next();
        assertThat(pong.get("id").asText()).isEqualTo("a");
        assertThat(pong.get("command").asText()).isEqualTo("result");
    }

    @Test
    void requestWithNonObjectDataFailsAtOnceWithInvalidDataAndItsId() throws Exception {
        RawManager raw = rawManager();
        raw.send("{\"id\":\"d1\",\"command\":\"test.echo\",\"data\":[1,2]}");
        JsonNode reply = raw.next();
        assertThat(reply.get("id").asText()).isEqualTo("d1");
        assertThat(reply.at("/data/code").asText()).isEqualTo("invalid_data");
        assertThat(reply.at("/data/field").asText()).isEqualTo("data");
    }

    @Test
    void unknownCommandIsAnsweredUnknownCommand() throws Exception {
        AgentClient client = later(agent.connected());
        AgentCallException e = failure(client.call("no.such.command", Map.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_COMMAND);
        assertThat(e.error().message()).contains("no.such.command");
        assertThat(e.retryable()).isFalse();
    }

    @Test
    void invalidDataNamesTheField() throws Exception {
        AgentClient client = later(agent.connected());
        AgentCallException range = failure(client.call("test.port", Map.of("port", 70000)));
        assertThat(range.code()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(range.error().field()).isEqualTo("port");
        AgentCallException type = failure(client.call("test.port", Map.of("port", "22; flush ruleset")));
        assertThat(type.code()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(type.error().field()).isEqualTo("port");
        assertThat(client.call("test.port", Map.of("port", 22, "label", "ssh")).get(10, TimeUnit.SECONDS).get("port").asInt())
                .isEqualTo(22);
    }

    @Test
    void handlerCrashIsAnsweredInternalWithoutDetails() throws Exception {
        AgentClient client = later(agent.connected());
        AgentCallException e = failure(client.call("test.fail", Map.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(e.error().message()).doesNotContain("shadow").doesNotContain("Exception");
    }

    @Test
    void duplicateIdInFlightIsRefused() throws Exception {
        RawManager raw = rawManager();
        raw.send("{\"id\":\"x\",\"command\":\"test.slow\",\"data\":{\"ms\":500}}");
        raw.send("{\"id\":\"x\",\"command\":\"ping\",\"data\":{}}");
        JsonNode first = raw.next();
        assertThat(first.get("id").asText()).isEqualTo("x");
        assertThat(first.at("/data/code").asText()).isEqualTo("duplicate_id");
        JsonNode second = raw.next();
        assertThat(second.get("command").asText()).isEqualTo("result");
        assertThat(second.at("/data/slept").asBoolean()).isTrue();
    }

    @Test
    void messagesFarLargerThanTheClientsWebSocketBuffersCrossWholeBothWays() throws Exception {
        // The client keeps 2 KiB WebSocket buffers (ClientTransport): a longer request leaves as
        // continuation frames, which the agent must join into the one message it answers.
        AgentClient client = later(agent.connected());
        java.util.Random random = new java.util.Random(16);
        List<Integer> sizes = new ArrayList<>(List.of(100, 2_000, 2_100, 4_000, 4_200, 16_500, 300_000, 900_000));
        for (int i = 0; i < 40; i++) {
            sizes.add(1 + random.nextInt(i % 2 == 0 ? 40_000 : 400_000));
        }
        List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
        List<String> blobs = new ArrayList<>();
        for (int size : sizes) {
            // Two-byte characters too, so a fragment boundary can fall inside one.
            String blob = "é-".repeat(size / 3) + "x".repeat(size % 3);
            blobs.add(blob);
            calls.add(client.call("test.echo", Map.of("blob", blob)));
        }
        for (int i = 0; i < sizes.size(); i++) {
            JsonNode reply = calls.get(i).get(30, TimeUnit.SECONDS);
            assertThat(reply.get("blob").asText()).as("%d bytes", sizes.get(i)).isEqualTo(blobs.get(i));
        }
        assertThat(agent.server.hasConnection()).isTrue();
    }

    @Test
    void frameOverOneMebibyteClosesWith1009() throws Exception {
        RawManager raw = rawManager();
        String big = "x".repeat(2 * 1024 * 1024);
        raw.send("{\"id\":\"big\",\"command\":\"test.echo\",\"data\":{\"blob\":\"" + big + "\"}}");
        // The agent closes with 1009 as soon as it reads the frame's length. The sender may still be
        // writing the rest, so its kernel can see a reset before the close frame: 1006 on its side.
        assertThat(raw.closeCode.get(10, TimeUnit.SECONDS)).isIn(1009, 1006);
        await("the agent's close code").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertThat(agent.server.lastCloseCode()).isEqualTo(1009));
        assertThat(agent.server.hasConnection()).isFalse();
    }

    @Test
    void thousandConcurrentRequestsAreAllAnsweredWithTheRightIds() throws Exception {
        AgentClient client = later(agent.connected());
        List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String command = i % 10 == 0 ? "test.slow" : "test.echo";
            calls.add(client.call(command, Map.of("n", i, "ms", 20)));
        }
        for (int i = 0; i < 1000; i++) {
            JsonNode r = calls.get(i).get(30, TimeUnit.SECONDS);
            if (i % 10 == 0) {
                assertThat(r.get("slept").asBoolean()).isTrue();
            } else {
                assertThat(r.get("n").asInt()).isEqualTo(i);
            }
        }
    }

    @Test
    void fiftyThousandSequentialCallsAreAllAnsweredPromptly() throws Exception {
        // Regression: Java-WebSocket can drop a write demand; without the agent's watchdog a reply
        // sat queued until the next ping, 20 s later, every few thousand calls.
        AgentClient client = later(agent.connected());
        for (int i = 0; i < 50_000; i++) {
            JsonNode r = client.call("test.echo", Map.of("n", i), Duration.ofSeconds(2), null).get(5, TimeUnit.SECONDS);
            assertThat(r.get("n").asInt()).isEqualTo(i);
        }
    }

    @Test
    void progressFramesReachTheListenerBeforeTheResult() throws Exception {
        AgentClient client = later(agent.connected());
        List<Integer> steps = new CopyOnWriteArrayList<>();
        JsonNode r = client.call("test.progress", Map.of(), Duration.ofSeconds(10), p -> steps.add(p.get("step").asInt()))
                .get(10, TimeUnit.SECONDS);
        assertThat(r.get("done").asBoolean()).isTrue();
        assertThat(steps).containsExactly(1, 2, 3);
    }

    @Test
    void eventsReachTheClient() throws Exception {
        CompletableFuture<JsonNode> event = new CompletableFuture<>();
        AgentClient client = later(agent.client().onEvent(event::complete).build());
        client.start();
        assertThat(client.awaitConnected(Duration.ofSeconds(10))).isTrue();
        client.call("test.event", Map.of()).get(10, TimeUnit.SECONDS);
        assertThat(event.get(10, TimeUnit.SECONDS).get("hello").asText()).isEqualTo("manager");
    }

    @Test
    void slowReplyTimesOutOnTheClientAsRetryable() throws Exception {
        AgentClient client = later(agent.connected());
        AgentCallException e = failure(client.call("test.slow", Map.of("ms", 2000), Duration.ofMillis(200), null));
        assertThat(e.code()).isEqualTo(ErrorCode.TIMEOUT);
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void callWhileDisconnectedFailsUnavailableAndRetryable() {
        AgentClient client = later(agent.client().build());
        AgentCallException e = failure(client.call("ping", null));
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void clientReconnectsAfterAgentRestartAndCallsSucceed() throws Exception {
        AgentClient client = later(agent.connected());
        CompletableFuture<JsonNode> inFlight = client.call("test.slow", Map.of("ms", 5000));
        int port = agent.port;
        agent.close();
        AgentCallException dropped = failure(inFlight);
        assertThat(dropped.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(dropped.retryable()).isTrue();
        assertThat(client.isConnected()).isFalse();
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start(port, Duration.ofSeconds(30));
        assertThat(client.awaitConnected(Duration.ofSeconds(15))).isTrue();
        assertThat(client.call("ping", null).get(10, TimeUnit.SECONDS).has("time")).isTrue();
    }

    @Test
    void deadConnectionFreesTheSlot() throws Exception {
        agent.close();
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start(0, Duration.ofSeconds(3));
        try (FreezingProxy proxy = new FreezingProxy(agent.port)) {
            AgentClient viaProxy = later(AgentClient.builder(
                    java.net.URI.create("wss://127.0.0.1:" + proxy.port() + AgentServer.PATH),
                    ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())))
                    .backoff(new Backoff(Duration.ofSeconds(30), Duration.ofSeconds(30))).build());
            viaProxy.start();
            assertThat(viaProxy.awaitConnected(Duration.ofSeconds(10))).isTrue();
            proxy.freeze(); // the peer goes silent: no pongs, no FIN
            long frozenAt = System.nanoTime();
            AgentClient second = later(agent.client().build());
            second.start();
            assertThat(second.awaitConnected(Duration.ofSeconds(20))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - frozenAt)).isGreaterThan(Duration.ofSeconds(1));
            assertThat(second.call("ping", null).get(10, TimeUnit.SECONDS).has("time")).isTrue();
        }
    }

    @Test
    void aWebSocketPingMeasuresTheRoundTripAndOneUnansweredFailsAtTheNext() throws Exception {
        AgentClient client = agent.connected();
        Duration rtt = client.ping().get(10, TimeUnit.SECONDS);
        assertThat(rtt).isPositive().isLessThan(Duration.ofSeconds(5));
        // The agent's WebSocket layer answers a ping with a pong; its dispatcher is still there for commands.
        assertThat(client.call("ping", null).get(10, TimeUnit.SECONDS).has("time")).isTrue();
        assertThat(client.ping().get(10, TimeUnit.SECONDS)).isPositive();
        client.close();
        assertThat(failure(client.ping()).code()).isEqualTo(ErrorCode.UNAVAILABLE);

        try (FreezingProxy proxy = new FreezingProxy(agent.port)) {
            AgentClient viaProxy = later(AgentClient.builder(
                    java.net.URI.create("wss://127.0.0.1:" + proxy.port() + AgentServer.PATH),
                    ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint()))).build());
            viaProxy.start();
            assertThat(viaProxy.awaitConnected(Duration.ofSeconds(20))).isTrue();
            assertThat(viaProxy.ping().get(10, TimeUnit.SECONDS)).isPositive();
            proxy.freeze(); // the agent goes silent: the ping is never answered
            CompletableFuture<Duration> unanswered = viaProxy.ping();
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !unanswered.isDone());
            viaProxy.ping(); // the next heartbeat: the one before it counts as unanswered
            assertThat(failure(unanswered).code()).isEqualTo(ErrorCode.UNAVAILABLE);
        }
    }

    @Test
    void theAgentsOwnPingsTellTheClientItIsThereWithoutACall() throws Exception {
        agent.close();
        // The agent pings every 2 s (two thirds of its 3 s lost-connection timeout).
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start(0, Duration.ofSeconds(3));
        AgentClient client = later(agent.connected());
        java.time.Instant first = client.lastHeard();
        assertThat(first).as("the info reply was heard").isNotNull();
        await("a frame the agent sent on its own").atMost(Duration.ofSeconds(10))
                .until(() -> client.lastHeard().isAfter(first));
    }

    private RawManager rawManager() throws InterruptedException {
        RawManager raw = new RawManager(agent.port, ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())));
        later(raw::closeBlocking);
        assertThat(raw.connectBlocking(10, TimeUnit.SECONDS)).isTrue();
        return raw;
    }
}
