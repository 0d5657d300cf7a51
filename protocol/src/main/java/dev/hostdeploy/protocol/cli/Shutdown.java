package dev.hostdeploy.protocol.cli;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every program stops: on SIGTERM or SIGINT a JVM shutdown hook closes its parts in the order
 * given, while {@code main} waits in {@link #await()} until that is done.
 *
 * <pre>{@code
 * Shutdown shutdown = Shutdown.closing(server, modules);   // registered before start: a signal during start still closes
 * server.start();
 * shutdown.await();
 * }</pre>
 */
public final class Shutdown {
    private static final Logger LOG = LoggerFactory.getLogger(Shutdown.class);

    private final List<AutoCloseable> inOrder;
    private final CountDownLatch closed = new CountDownLatch(1);

    private Shutdown(List<AutoCloseable> inOrder) {
        this.inOrder = inOrder;
    }

    /** Registers the shutdown hook that closes {@code inOrder}, first to last; one failing does not stop the rest. */
    public static Shutdown closing(AutoCloseable... inOrder) {
        Shutdown s = new Shutdown(List.of(inOrder));
        Runtime.getRuntime().addShutdownHook(new Thread(s::close, "shutdown"));
        return s;
    }

    /** Blocks until the shutdown hook has closed everything. */
    public void await() throws InterruptedException {
        closed.await();
    }

    void close() {
        for (AutoCloseable c : inOrder) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed while shutting down", c, e);
            }
        }
        closed.countDown();
    }
}
