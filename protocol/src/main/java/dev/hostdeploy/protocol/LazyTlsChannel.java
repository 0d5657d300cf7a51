package dev.hostdeploy.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
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
    private ByteChannel tls;

    LazyTlsChannel(SocketChannel raw, Opener opener) {
        this.raw = raw;
        this.opener = opener;
    }

    private synchronized ByteChannel tls() throws IOException {
        if (tls == null) {
            tls = opener.open();
        }
        return tls;
    }

    private synchronized WrappedByteChannel wrapped() {
        return tls instanceof WrappedByteChannel w ? w : null;
    }

    /** Whether the TLS side exists yet (for tests and the bench). */
    synchronized boolean started() {
        return tls != null;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return tls().read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return tls().write(src);
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
