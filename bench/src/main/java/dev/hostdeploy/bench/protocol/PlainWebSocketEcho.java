package dev.hostdeploy.bench.protocol;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.java_websocket.WebSocket;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshake;
import org.java_websocket.server.WebSocketServer;

/**
 * The same frame echoed by Java-WebSocket without TLS, JSON or handlers: the floor the chosen library's
 * threading (selector, decoder and writer threads) puts under any protocol built on it.
 */
final class PlainWebSocketEcho {
    private PlainWebSocketEcho() {
    }

    static ProtocolBench.Stats run(int n) throws Exception {
        WebSocketServer server = new WebSocketServer(new InetSocketAddress("127.0.0.1", 0), 1) {
            @Override
            public void onOpen(WebSocket conn, ClientHandshake handshake) {
            }

            @Override
            public void onClose(WebSocket conn, int code, String reason, boolean remote) {
            }

            @Override
            public void onMessage(WebSocket conn, String message) {
                conn.send(message);
            }

            @Override
            public void onError(WebSocket conn, Exception ex) {
            }

            @Override
            public void onStart() {
            }
        };
        server.setTcpNoDelay(true);
        server.start();
        while (server.getPort() <= 0) {
            Thread.sleep(10);
        }
        BlockingQueue<String> replies = new LinkedBlockingQueue<>();
        WebSocketClient client = new WebSocketClient(URI.create("ws://127.0.0.1:" + server.getPort())) {
            @Override
            public void onOpen(ServerHandshake handshake) {
            }

            @Override
            public void onMessage(String message) {
                replies.add(message);
            }

            @Override
            public void onClose(int code, String reason, boolean remote) {
            }

            @Override
            public void onError(Exception ex) {
            }
        };
        client.setTcpNoDelay(true);
        try {
            client.connectBlocking();
            for (int i = 0; i < n / 4; i++) {
                client.send(ProtocolBench.FRAME);
                replies.take();
            }
            long[] t = new long[n];
            for (int i = 0; i < n; i++) {
                long start = System.nanoTime();
                client.send(ProtocolBench.FRAME);
                replies.take();
                t[i] = System.nanoTime() - start;
            }
            return ProtocolBench.Stats.of(t);
        } finally {
            client.closeBlocking();
            server.stop(1000);
        }
    }
}
