package dev.hostdeploy.manager.jobs;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the Manager's long work off the request threads: at most {@code parallel} jobs at once overall and
 * one at a time per key (a deployment). A deploy asked for while one runs queues exactly one more: further
 * asks while that one waits join it, since it will deploy the newest commit anyway. Other jobs (remove,
 * stop) always queue, in order.
 */
public final class JobRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    /** How a job joins its key's queue. */
    public enum Kind {
        /** Coalesces with a deploy already waiting. */
        DEPLOY,
        /** Always queued. */
        OTHER
    }

    private record Queued(Kind kind, Runnable work) {
    }

    private static final class Slot {
        boolean running;
        final Deque<Queued> waiting = new ArrayDeque<>();
    }

    private final ExecutorService pool;
    private volatile boolean closing;
    private final Map<String, Slot> slots = new HashMap<>();

    public JobRunner(int parallel) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "job-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = Executors.newFixedThreadPool(parallel, threads);
    }

    /**
     * Queues {@code work} under {@code key}. Returns false when a deploy was already waiting for this key
     * and this one joined it (nothing new queued).
     */
    public boolean submit(String key, Kind kind, Runnable work) {
        synchronized (slots) {
            Slot s = slots.computeIfAbsent(key, k -> new Slot());
            if (!s.running) {
                s.running = true;
                pool.execute(() -> run(key, work));
                return true;
            }
            if (kind == Kind.DEPLOY && s.waiting.stream().anyMatch(q -> q.kind == Kind.DEPLOY)) {
                return false;
            }
            s.waiting.add(new Queued(kind, work));
            return true;
        }
    }

    /** Like {@link #submit} for work whose outcome a caller awaits (asynchronously). */
    public <T> CompletableFuture<T> call(String key, java.util.function.Supplier<T> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        submit(key, Kind.OTHER, () -> {
            try {
                done.complete(work.get());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    /** Whether a job for {@code key} is running now. */
    public boolean busy(String key) {
        synchronized (slots) {
            Slot s = slots.get(key);
            return s != null && s.running;
        }
    }

    private void run(String key, Runnable work) {
        try {
            work.run();
        } catch (Throwable t) {
            LOG.error("job for {} failed", key, t);
        } finally {
            Queued next;
            synchronized (slots) {
                Slot s = slots.get(key);
                next = s.waiting.poll();
                if (next == null) {
                    slots.remove(key);
                }
            }
            if (next != null) {
                try {
                    pool.execute(() -> run(key, next.work));
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // Shutting down: the queued job is dropped; a restart resolves what was interrupted.
                }
            }
        }
    }

    /** True once {@link #close} began: work failing now failed because the Manager is stopping. */
    public boolean closing() {
        return closing;
    }

    @Override
    public void close() {
        closing = true;
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
