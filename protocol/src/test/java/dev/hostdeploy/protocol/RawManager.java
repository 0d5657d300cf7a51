package dev.hostdeploy.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.util.Collections;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.ServerHandshake;

/** A protocol peer that sends raw text, for tests of what a well-behaved client never sends. */
final class RawManager extends WebSocketClient {
    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

    RawManager(int port, Identity identity, TrustPolicy trust) {
        this(port, Tls.context(identity, trust, "agent", fp -> { }));
    }

    RawManager(int port, SSLContext ssl) {
        super(URI.create("wss://127.0.0.1:" + port + AgentServer.PATH), new Draft_6455(Collections.emptyList(), 64 << 20));
        setSocketFactory(ssl.getSocketFactory());
    }

    @Override
    protected void onSetSSLParameters(SSLParameters parameters) {
        Tls.restrict(parameters, false);
    }

    JsonNode next() throws InterruptedException {
        JsonNode f = frames.poll(10, TimeUnit.SECONDS);
        if (f == null) {
            throw new AssertionError("no frame within 10 s");
        }
        return f;
    }

    @Override
    public void onOpen(ServerHandshake handshake) {
    }

    @Override
    public void onMessage(String message) {
        try {
            frames.add(Json.MAPPER.readTree(message));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
        closeCode.complete(code);
    }

    @Override
    public void onError(Exception ex) {
    }
}
