package dev.hostdeploy.protocol;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
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
        super(context, parameters);
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
}
