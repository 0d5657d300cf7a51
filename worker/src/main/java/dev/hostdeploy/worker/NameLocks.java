package dev.hostdeploy.worker;

import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One lock per name (a deployment, a container), so two commands never race on the same thing while
 * different names run in parallel. A caller that cannot get the lock within the wait gets {@code busy};
 * one interrupted while waiting (the Worker is stopping) gets {@code unavailable}. Locks are fair, so
 * waiting commands run in the order they came.
 */
public final class NameLocks {
    private final String what;
    private final Duration wait;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    /**
     * @param what the noun used in messages ("deployment", "container")
     * @param wait how long a second command waits for the first before it is refused
     */
    public NameLocks(String what, Duration wait) {
        this.what = what;
        this.wait = wait;
    }

    /** Runs {@code body} holding the lock of {@code name}. */
    public <T> T locked(String name, Supplier<T> body) {
        return locked(name, () -> { }, body);
    }

    /**
     * Runs {@code body} holding the lock of {@code name}; {@code onWait} runs once first when another
     * command holds it (to tell the caller why nothing happens yet).
     */
    public <T> T locked(String name, Runnable onWait, Supplier<T> body) {
        ReentrantLock lock = locks.computeIfAbsent(name, k -> new ReentrantLock(true));
        try {
            if (!lock.tryLock()) {
                onWait.run();
                if (!lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw ProtocolException.busy(what + " '" + name + "' is busy with another command");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ProtocolException.unavailable("the worker is shutting down");
        }
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }
}
