package dev.hostdeploy.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import org.java_websocket.WrappedByteChannel;
import org.java_websocket.interfaces.ISSLChannel;

/**
 * An accepted connection whose TLS side (Java-WebSocket's SSLSocketChannel2: an SSLEngine and about
 * 50 KB of buffers) is only made when the peer first sends something. An idle connection then costs
 * a socket and a few small objects, not a TLS session: a thousand of them once ran a 64 MB agent out
 * of memory on accept alone.
 */
final class LazyTlsChannel implements ByteChannel, WrappedByteChannel, ISSLChannel {
    interface Opener {
        ByteChannel open() throws IOException;
    }

    private final SocketChannel raw;
    private final Opener opener;
    private final Consumer<HandshakeGate.Stage> progress;
    private ByteChannel tls;
    private volatile boolean helloAnswered;
    private volatile boolean authenticated;

    /**
     * {@code progress} hears when the peer's ClientHello has been answered (the agent has spent its key
     * exchange on it: a byte, or a ClientHello trickled in part, does not count) and when the handshake
     * is done.
     */
    LazyTlsChannel(SocketChannel raw, Opener opener, Consumer<HandshakeGate.Stage> progress) {
        this.raw = raw;
        this.opener = opener;
        this.progress = progress;
    }

    private synchronized ByteChannel tls() throws IOException {
        if (tls == null) {
            tls = opener.open();
        }
        return tls;
    }

    /** Once the handshake is done the peer's certificate has been checked against the trust list. */
    private void checkProgress(ByteChannel t) {
        if (authenticated || !(t instanceof ISSLChannel s) || !raw.isOpen()) {
            return;
        }
        SSLEngine engine = s.getSSLEngine();
        if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
            authenticated = true;
            progress.accept(HandshakeGate.Stage.AUTHENTICATED);
        } else if (!helloAnswered && engine.getHandshakeSession() != null) {
            // The JDK's engine makes the handshake session when it answers a complete ClientHello.
            helloAnswered = true;
            progress.accept(HandshakeGate.Stage.TLS);
        }
    }

    private synchronized WrappedByteChannel wrapped() {
        return tls instanceof WrappedByteChannel w ? w : null;
    }

    /** Whether the TLS side exists yet (for tests and the bench). */
    synchronized boolean started() {
        return tls != null;
    }

    /**
     * Reads what the peer sent, draining what the TLS side already holds decrypted or undecrypted, and
     * reports the end of the stream once the peer's close_notify has been read.
     *
     * <p>Java-WebSocket's SSLSocketChannel2 can return 0 while it still holds bytes: its unwrap loop stops
     * after a record that yields no application data, leaving the records behind it (a close frame, say)
     * in its buffer, and WebSocketServer only asks {@code isNeedRead()} after a read that returned data.
     * Those bytes would then wait for the socket to become readable again, which for a Manager waiting on
     * its close may be never. And once the peer's close_notify is in, the next read closes the socket
     * underneath the WebSocket without telling it (SSLSocketChannel2.unwrap on a CLOSED result): the
     * connection, never closed as far as Java-WebSocket knows, then holds the Manager slot until the ping
     * timeout. Returning -1 instead ends it the ordinary way.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        ByteChannel t = tls();
        if (inboundDone(t) && !isNeedRead()) {
            return -1;
        }
        int start = dst.position();
        int n = t.read(dst);
        // Only past the handshake: before it, what SSLSocketChannel2 holds are handshake records it works
        // off itself.
        for (int tries = 0; n == 0 && dst.hasRemaining() && tries < 16 && handshakeDone(t) && isNeedRead();
                tries++) {
            n = wrapped().readMore(dst);
        }
        checkProgress(t);
        if (n < 0 && dst.position() > start) {
            // SSLSocketChannel2 reports the close_notify behind the last data as -1 and drops that data;
            // hand it on now, the end comes with the next read.
            return dst.position() - start;
        }
        if (n == 0 && inboundDone(t) && !isNeedRead()) {
            return -1;
        }
        return n;
    }

    /**
     * Once the peer's close_notify is in, the JDK's TLS 1.3 engine is half-closed and reports NEED_WRAP.
     * SSLSocketChannel2 takes that for a handshake step: it writes no application data again (the write
     * returns 0 and the selector retries it forever) and, with -ea, fails an assertion that ends the
     * selector thread. Failing the write closes the connection the ordinary way instead.
     */
    private static void refuseAfterPeerClosed(ByteChannel t) throws EOFException {
        if (inboundDone(t)) {
            throw new EOFException("the peer has closed its TLS session");
        }
    }

    private static boolean handshakeDone(ByteChannel t) {
        return t instanceof ISSLChannel s
                && s.getSSLEngine().getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    private static boolean inboundDone(ByteChannel t) {
        return t instanceof ISSLChannel s && s.getSSLEngine().isInboundDone();
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ByteChannel t = tls();
        refuseAfterPeerClosed(t);
        int n = t.write(src);
        checkProgress(t);
        return n;
    }

    @Override
    public boolean isOpen() {
        return raw.isOpen();
    }

    @Override
    public void close() throws IOException {
        ByteChannel t;
        synchronized (this) {
            t = tls;
        }
        if (t != null) {
            t.close();
        } else {
            raw.close();
        }
    }

    @Override
    public boolean isNeedWrite() {
        WrappedByteChannel w = wrapped();
        return w != null && w.isNeedWrite();
    }

    @Override
    public void writeMore() throws IOException {
        WrappedByteChannel w = wrapped();
        if (w != null) {
            refuseAfterPeerClosed(w);
            w.writeMore();
        }
    }

    @Override
    public boolean isNeedRead() {
        WrappedByteChannel w = wrapped();
        return w != null && w.isNeedRead();
    }

    @Override
    public int readMore(ByteBuffer dst) throws IOException {
        WrappedByteChannel w = wrapped();
        return w == null ? 0 : w.readMore(dst);
    }

    @Override
    public boolean isBlocking() {
        return raw.isBlocking();
    }

    @Override
    public SSLEngine getSSLEngine() {
        ByteChannel t;
        synchronized (this) {
            t = tls;
        }
        return t instanceof ISSLChannel s ? s.getSSLEngine() : null;
    }
}
