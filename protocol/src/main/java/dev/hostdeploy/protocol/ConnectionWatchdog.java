package dev.hostdeploy.protocol;

import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WrappedByteChannel;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent server's policing of its connections, on one timer thread: connections that do not finish
 * their upgrade in time are closed, pending ones displaced by a newer one ({@link HandshakeGate}) are
 * closed with a rate-limited warning, and the Manager connection's lost write demand is re-raised.
 * Apart from {@link AgentServer} because all three work around the transport library rather than
 * being the transport. Logs under {@link AgentServer}'s logger, as before the split.
 */
final class ConnectionWatchdog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentServer.class);

    /**
     * How often queued replies are checked for a lost write demand. Java-WebSocket 1.6.0's selector
     * clears a connection's write interest after draining its queue without re-checking the queue, so
     * a reply queued in that instant waits for the next write (up to the next ping, 20 s later). Seen
     * here every few thousand sequential calls; the watchdog re-raises the demand within this period.
     * The same loss hits a close: the selector carries out a close (answer sent, connection closed) only
     * on a write, so the watchdog also re-raises the demand of a connection flagged to close.
     */
    static final long WRITE_WATCHDOG_MILLIS = 5;

    private final HandshakeGate<WebSocket> gate;
    private final ManagerSlot slot;
    private final int maxPending;
    private final int maxPerAddress;
    private final Duration handshakeTimeout;
    private final LogLimiter floodLog = new LogLimiter(1, TimeUnit.MINUTES, 1);
    private final ScheduledExecutorService timer;

    ConnectionWatchdog(String kind, ManagerSlot slot, int maxPending, int maxPerAddress, Duration handshakeTimeout) {
        this.slot = slot;
        this.maxPending = maxPending;
        this.maxPerAddress = maxPerAddress;
        this.handshakeTimeout = handshakeTimeout;
        this.gate = new HandshakeGate<>(maxPending, maxPerAddress, handshakeTimeout.toNanos());
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, kind + "-write-watchdog");
            t.setDaemon(true);
            return t;
        });
    }

    HandshakeGate<WebSocket> gate() {
        return gate;
    }

    /** Starts both sweeps; {@code server} is where a lost write demand is re-raised. */
    void start(WebSocketServer server) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                reassertWriteDemand(server);
            } catch (RuntimeException e) {
                LOG.debug("write watchdog: {}", e.toString());
            }
        }, WRITE_WATCHDOG_MILLIS, WRITE_WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
        long sweep = Math.max(10, Math.min(250, handshakeTimeout.toMillis() / 4));
        timer.scheduleWithFixedDelay(() -> {
            try {
                closeExpiredHandshakes();
            } catch (RuntimeException e) {
                LOG.debug("handshake sweep: {}", e.toString());
            }
        }, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /** Closes a connection that has not finished its upgrade; it never reaches onOpen or onClose. */
    private static void drop(WebSocket conn, String why) {
        conn.closeConnection(CloseFrame.ABNORMAL_CLOSE, why);
    }

    /** Closes a pending connection displaced by a newer one; a flood is reported at most once a minute. */
    void evict(WebSocket conn, String why) {
        drop(conn, why);
        long suppressed = floodLog.admit("evicted");
        if (suppressed >= 0) {
            LOG.warn("closed a connection from {} that had not finished its handshake, to admit a newer one "
                    + "(limits: {} pending, {} per address){}", conn.getRemoteSocketAddress(),
                    maxPending, maxPerAddress,
                    suppressed == 0 ? "" : "; " + suppressed + " more since the last such line");
        }
    }

    private void closeExpiredHandshakes() {
        for (WebSocket conn : gate.expired(System.nanoTime())) {
            LOG.debug("closed {}: no WebSocket upgrade within {} ms", conn.getRemoteSocketAddress(),
                    handshakeTimeout.toMillis());
            drop(conn, "handshake timeout");
        }
    }

    private void reassertWriteDemand(WebSocketServer server) {
        if (!(slot.current() instanceof WebSocketImpl conn)) {
            return;
        }
        SelectionKey key = conn.getSelectionKey();
        // A close answered but not yet carried out counts too: the selector closes the connection only
        // when a write finds the queue drained and the close flagged, and losing that last demand once
        // left the closed Manager holding the slot until the ping timeout.
        boolean pending = conn.hasBufferedData() || conn.isFlushAndClose()
                || (conn.getChannel() instanceof WrappedByteChannel channel && channel.isNeedWrite());
        if (pending && key != null && key.isValid() && (key.interestOps() & SelectionKey.OP_WRITE) == 0) {
            server.onWriteDemand(conn);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
