package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Managers that come and go in quick turns (the bench's connect, ping, close loop): a closed
 * Manager's connection must give up the one slot at once, not hold it until the ping timeout.
 */
@Timeout(60)
class ManagerTurnoverTest {
    static final int CYCLES = Integer.getInteger("turnover.cycles", 200);

    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    AgentFixture agent;

    @BeforeEach
    void start() throws Exception {
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start();
    }

    @AfterEach
    void stop() {
        agent.close();
    }

    /**
     * A Manager whose TLS session ends (close_notify, then FIN: a process that exits, or Java-WebSocket's
     * client) with or without a WebSocket close frame just before. The agent used to close such a socket
     * without telling the WebSocket, which then held the slot until the ping timeout (30 s here).
     */
    @Test
    void managerThatEndsItsTlsSessionGivesUpTheSlotAtOnce() throws Exception {
        for (int i = 0; i < 4; i++) {
            RawManager gone = new RawManager(agent.port, ids.get("manager"),
                    TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())));
            assertThat(gone.connectBlocking(10, TimeUnit.SECONDS)).isTrue();
            gone.send("{\"id\":\"1\",\"command\":\"ping\",\"data\":{}}");
            assertThat(gone.next().path("command").asText()).isEqualTo("result");
            if (i % 2 == 1) {
                gone.close(); // a close frame, not waited for
            }
            gone.getSocket().close();

            AgentClient next = agent.client().build();
            try {
                next.start();
                assertThat(next.awaitConnected(Duration.ofSeconds(i == 0 ? 5 : 2)))
                        .as("the next manager connects (last failure: %s)", next.lastFailure()).isTrue();
                assertThat(next.call("ping", null).get(5, TimeUnit.SECONDS).has("time")).isTrue();
            } finally {
                next.close();
            }
        }
    }

    /** The bench's loop of connect, ping, close; {@code -Dturnover.load=N} adds N spinning threads. */
    @Test
    void eachNextManagerGetsTheSlotWithinTwoSecondsOfThePreviousClosing() throws Exception {
        int busy = Integer.getInteger("turnover.load", 0);
        AtomicBoolean stop = new AtomicBoolean();
        for (int t = 0; t < busy; t++) {
            Thread spin = new Thread(() -> {
                while (!stop.get()) {
                    Thread.onSpinWait();
                }
            });
            spin.setDaemon(true);
            spin.start();
        }
        try {
            cycles();
        } finally {
            stop.set(true);
        }
    }

    private void cycles() throws Exception {
        for (int i = 0; i < CYCLES; i++) {
            AgentClient client = agent.client().build();
            try {
                client.start();
                // The first one also warms up TLS and the JIT.
                long allowed = i == 0 ? 15 : 2;
                assertThat(client.awaitConnected(Duration.ofSeconds(allowed)))
                        .as("manager %d of %d connects within %d s (last failure: %s)", i + 1, CYCLES, allowed,
                                client.lastFailure())
                        .isTrue();
                assertThat(client.call("ping", null).get(5, TimeUnit.SECONDS).has("time")).isTrue();
            } finally {
                client.close();
            }
        }
    }
}
