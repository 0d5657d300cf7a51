package dev.hostdeploy.protocol;

import java.nio.channels.SelectionKey;
import java.util.concurrent.atomic.AtomicReference;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.framing.CloseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Manager connection an agent serves. A second Manager is refused with
 * {@link AgentServer#CLOSE_SLOT_TAKEN} while the slot is held, and a connection that died during its
 * upgrade never takes it. Apart from {@link AgentServer} so that who holds the slot, and when it is
 * freed, is decided in one place. Logs under {@link AgentServer}'s logger, as before the split.
 */
final class ManagerSlot {
    private static final Logger LOG = LoggerFactory.getLogger(AgentServer.class);
    private final AtomicReference<WebSocket> active = new AtomicReference<>();
    /** Close code of the last Manager connection that ended, as the agent saw it (for status and tests). */
    private volatile int lastCloseCode;

    /** The connected Manager, or null. */
    WebSocket current() {
        return active.get();
    }

    boolean holds(WebSocket conn) {
        return active.get() == conn;
    }

    /**
     * Gives the slot to a connection that has just finished its upgrade; false when it was refused (another
     * Manager holds the slot) or found already closed, in which case it has been closed.
     */
    boolean take(WebSocket conn) {
        if (!active.compareAndSet(null, conn)) {
            LOG.warn("refused a second manager connection from {}: one is already connected",
                    conn.getRemoteSocketAddress());
            conn.close(AgentServer.CLOSE_SLOT_TAKEN, "another manager is connected");
            return false;
        }
        if (!stillConnected(conn)) {
            // Dropped by the handshake deadline or for a newcomer while its upgrade was under way:
            // Java-WebSocket still opens it, and a dead Manager would hold the slot until the ping
            // timeout. Closing it again now frees everything it took.
            active.compareAndSet(conn, null);
            conn.closeConnection(CloseFrame.ABNORMAL_CLOSE, "closed during its handshake");
            return false;
        }
        return true;
    }

    /** Frees the slot if {@code conn} held it. */
    void release(WebSocket conn, int code, String reason) {
        if (active.compareAndSet(conn, null)) {
            lastCloseCode = code;
            LOG.info("manager disconnected ({} {})", code, LogSafe.of(reason));
        }
    }

    int lastCloseCode() {
        return lastCloseCode;
    }

    private static boolean stillConnected(WebSocket conn) {
        if (!(conn instanceof WebSocketImpl impl)) {
            return true;
        }
        SelectionKey key = impl.getSelectionKey();
        return key != null && key.isValid() && impl.getChannel() != null && impl.getChannel().isOpen();
    }
}
