package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Connections that never finish their handshake: they are bounded, timed out, and never lock the Manager out. */
@Timeout(60)
class HandshakeFloodTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    final List<Socket> sockets = new ArrayList<>();
    final List<Thread> tricklers = new ArrayList<>();
    /** Small enough that a few hundred TLS sessions do not fit, large enough for the agent itself. */
    static final String SMALL_HEAP = System.getProperty("hostdeploy.test.smallHeap", "16m");
    AgentServer server;
    AgentClient client;

    @AfterEach
    void stop() throws Exception {
        tricklers.forEach(Thread::interrupt);
        for (Socket s : sockets) {
            s.close();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private AgentServer start(AgentServer.Builder builder) throws InterruptedException {
        server = builder.build();
        server.start();
        return server;
    }

    private AgentServer.Builder agent() {
        return AgentServer.builder(ids.get("agent"), TrustPolicy.exactly(List.of(ids.get("manager").fingerprint())),
                new HandlerRegistry()).listen(new InetSocketAddress("127.0.0.1", 0));
    }

    private Socket idle() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 5000);
        return s;
    }

    /** A connection that sends a real ClientHello one byte every 50 ms. */
    private Socket slow() throws IOException {
        Socket s = idle();
        byte[] hello = clientHello();
        Thread t = new Thread(() -> {
            try {
                for (byte b : hello) {
                    s.getOutputStream().write(b);
                    s.getOutputStream().flush();
                    Thread.sleep(50); // the slow peer itself: paces its bytes, waits for nothing
                }
            } catch (IOException | InterruptedException e) {
                // closed by the agent or by the test
            }
        }, "trickle");
        t.setDaemon(true);
        t.start();
        tricklers.add(t);
        return s;
    }

    private static byte[] clientHello() throws IOException {
        SSLEngine engine = Tls.context(ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())),
                "agent", fp -> { }).createSSLEngine("127.0.0.1", 0);
        engine.setUseClientMode(true);
        SSLParameters params = engine.getSSLParameters();
        Tls.restrict(params, false);
        engine.setSSLParameters(params);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    /** True once the agent has closed the socket (EOF or reset), false if it is still open after {@code waitMillis}. */
    private static boolean closedByAgent(Socket s, int waitMillis) throws IOException {
        s.setSoTimeout(waitMillis);
        try (InputStream in = s.getInputStream()) {
            while (true) {
                if (in.read() == -1) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private static AgentClient managerOf(int port) {
        return AgentClient.builder(java.net.URI.create("wss://127.0.0.1:" + port + AgentServer.PATH),
                ids.get("manager"), TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())))
                .backoff(new Backoff(Duration.ofMillis(100), Duration.ofMillis(200))).build();
    }

    private long connectAndPingMillis() throws Exception {
        long t0 = System.nanoTime();
        client = managerOf(server.port());
        client.start();
        assertThat(client.awaitConnected(Duration.ofSeconds(10))).as("connected: " + client.lastFailure()).isTrue();
        assertThat(client.call("ping", null).get(10, TimeUnit.SECONDS).has("time")).isTrue();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    @Test
    void managerConnectsAndPingsWithinTwoSecondsWhileHundredsOfIdleAndSlowConnectionsAreOpen() throws Exception {
        start(agent());
        for (int i = 0; i < 300; i++) {
            idle();
        }
        for (int i = 0; i < 5; i++) {
            slow();
        }
        assertThat(connectAndPingMillis()).isLessThan(2000);
        assertThat(server.pendingConnections()).isLessThanOrEqualTo(32);
    }

    /**
     * The agent alone in a JVM with a small heap, as in production: idle connections used to cost a
     * TLS session each on accept, and a few hundred killed the selector thread with OutOfMemoryError.
     */
    @Test
    void agentInASmallHeapStillServesTheManagerWithHundredsOfIdleConnectionsOpen(@TempDir Path dir) throws Exception {
        ids.get("agent").save(dir);
        Process agentProcess = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + SMALL_HEAP, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                SmallHeapAgent.class.getName(), dir.toString(), ids.get("manager").fingerprint())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(agentProcess.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
            // The agent's log lines share its stdout with the PORT line: skip them, then keep draining the
            // pipe so a chatty agent never blocks on a full one.
            String line = out.readLine();
            while (line != null && !line.startsWith("PORT ")) {
                line = out.readLine();
            }
            assertThat(line).startsWith("PORT ");
            Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "agent-stdout");
            drain.setDaemon(true);
            drain.start();
            int port = Integer.parseInt(line.substring(5).trim());
            // A first Manager session warms the fresh JVM up (class loading, the first TLS handshake).
            try (AgentClient warmUp = managerOf(port)) {
                warmUp.start();
                assertThat(warmUp.awaitConnected(Duration.ofSeconds(20))).isTrue();
            }
            for (int i = 0; i < 300; i++) {
                Socket s = new Socket();
                sockets.add(s);
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                // One byte each, so the old agent made its TLS session for every one of them.
                s.getOutputStream().write(0x16);
            }
            // The agent has taken the burst in once it has pushed out all but the newest 32 (per address).
            for (Socket s : sockets.subList(0, 260)) {
                assertThat(closedByAgent(s, 5000)).as("pushed out by newer connections").isTrue();
            }
            long t0 = System.nanoTime();
            client = managerOf(port);
            client.start();
            assertThat(client.awaitConnected(Duration.ofSeconds(5))).as("connected: " + client.lastFailure()).isTrue();
            assertThat(client.call("ping", null).get(5, TimeUnit.SECONDS).has("time")).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        } finally {
            agentProcess.destroy();
            agentProcess.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void idleConnectionIsClosedByTheAgentAfterTheHandshakeDeadline() throws Exception {
        start(agent().handshakeTimeout(Duration.ofMillis(300)));
        long t0 = System.nanoTime();
        Socket silent = idle();
        Socket trickling = slow();
        assertThat(closedByAgent(silent, 5000)).isTrue();
        assertThat(closedByAgent(trickling, 5000)).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(250), Duration.ofSeconds(3));
        await("no pending connection left").atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(10))
                .until(() -> server.pendingConnections() == 0);
    }

    @Test
    void floodFromOneAddressKeepsOnlyItsNewestPendingConnectionsAndTheManagerStillGetsIn() throws Exception {
        start(agent().maxPendingConnections(1000, 20).handshakeTimeout(Duration.ofSeconds(30)));
        for (int i = 0; i < 300; i++) {
            idle();
        }
        // All from 127.0.0.1, as the Manager is: each new one past 20 pushes out the oldest, at once.
        await("20 pending connections").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                .until(() -> server.pendingConnections() == 20);
        int closed = 0;
        for (Socket s : sockets.subList(0, 280)) {
            closed += closedByAgent(s, 2000) ? 1 : 0;
        }
        assertThat(closed).isEqualTo(280);
        for (Socket s : sockets.subList(280, 300)) {
            assertThat(closedByAgent(s, 50)).as("a newer pending connection is kept").isFalse();
        }
        assertThat(connectAndPingMillis()).isLessThan(2000);
    }

    @Test
    void whenAllPendingSlotsAreTakenTheOldestIsDroppedForTheNewcomer() throws Exception {
        start(agent().maxPendingConnections(10, 10).handshakeTimeout(Duration.ofSeconds(30)));
        for (int i = 0; i < 10; i++) {
            idle();
        }
        await("10 pending connections").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                .until(() -> server.pendingConnections() == 10);
        assertThat(connectAndPingMillis()).isLessThan(2000);
        assertThat(closedByAgent(sockets.get(0), 2000)).isTrue();
        assertThat(closedByAgent(sockets.get(9), 50)).isFalse();
    }
}
