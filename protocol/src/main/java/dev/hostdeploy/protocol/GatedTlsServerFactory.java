package dev.hostdeploy.protocol;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.java_websocket.WebSocket;
import org.java_websocket.server.SSLParametersWebSocketServerFactory;

/**
 * Java-WebSocket's TLS server factory with two changes made where a connection is accepted: the
 * connection enters the {@link HandshakeGate} (older pending ones it displaces are closed), and its TLS
 * side is made lazily ({@link LazyTlsChannel}).
 */
final class GatedTlsServerFactory extends SSLParametersWebSocketServerFactory {
    private final HandshakeGate<WebSocket> gate;
    private final BiConsumer<WebSocket, String> closer;

    GatedTlsServerFactory(SSLContext context, SSLParameters parameters, HandshakeGate<WebSocket> gate,
            BiConsumer<WebSocket, String> closer) {
        super(context, new InlineTasks(), parameters);
        this.gate = gate;
        this.closer = closer;
    }

    @Override
    public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) throws IOException {
        // Java-WebSocket registers the channel with its WebSocketImpl attached before wrapping it.
        WebSocket conn = key != null && key.attachment() instanceof WebSocket w ? w : null;
        if (conn != null && channel.getRemoteAddress() instanceof InetSocketAddress remote) {
            InetAddress address = remote.getAddress();
            for (WebSocket old : gate.admit(conn, address, System.nanoTime())) {
                closer.accept(old, "too many connections still in their handshake");
            }
        }
        return new LazyTlsChannel(channel, () -> tls(channel, key), stage -> {
            if (conn != null) {
                gate.advance(conn, stage);
            }
        });
    }

    private ByteChannel tls(SocketChannel channel, SelectionKey key) throws IOException {
        return super.wrapChannel(channel, key);
    }

    /**
     * Runs the SSLEngine's delegated tasks (checking the peer's certificate: a hash and a set lookup) at
     * once on the selector thread. Java-WebSocket hands them to an executor and, when a task is not yet
     * done, stops processing until the socket is readable again; a client that sent its upgrade request
     * in the same flight as its TLS Finished (the JDK's HttpClient does) then waits for bytes that never
     * come (Java-WebSocket issue #1500). Run inline, the task is always done when it is checked.
     */
    static final class InlineTasks extends AbstractExecutorService {
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }
    }
}
