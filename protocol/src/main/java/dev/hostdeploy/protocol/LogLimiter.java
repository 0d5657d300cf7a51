package dev.hostdeploy.protocol;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Decides whether a repeated warning is logged: the first for a key always, then at most one per
 * {@code period} per key, telling how many were suppressed in between; and at most
 * {@code globalPerPeriod} lines per period over all keys, so fresh keys cannot flood the log either.
 * Remembers a bounded number of keys (least recently seen forgotten first).
 */
final class LogLimiter {
    private static final int MAX_KEYS = 1024;

    private final long periodNanos;
    private final int globalPerPeriod;
    private final LongSupplier clock;
    private final Map<String, Window> windows = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Window> eldest) {
            return size() > MAX_KEYS;
        }
    };
    private long globalStart;
    private int globalCount;
    private long globalSuppressed;

    private static final class Window {
        long loggedAt;
        long suppressed;
    }

    LogLimiter(long period, TimeUnit unit, int globalPerPeriod, LongSupplier nanoClock) {
        this.periodNanos = unit.toNanos(period);
        this.globalPerPeriod = globalPerPeriod;
        this.clock = nanoClock;
        this.globalStart = nanoClock.getAsLong();
    }

    LogLimiter(long period, TimeUnit unit, int globalPerPeriod) {
        this(period, unit, globalPerPeriod, System::nanoTime);
    }

    /**
     * -1 when this occurrence is not to be logged; otherwise how many occurrences were suppressed
     * since the last logged one (for this key, plus any over the global cap).
     */
    synchronized long admit(String key) {
        long now = clock.getAsLong();
        if (now - globalStart >= periodNanos) {
            globalStart = now;
            globalCount = 0;
        }
        Window w = windows.get(key);
        boolean due = w == null || now - w.loggedAt >= periodNanos;
        if (!due || globalCount >= globalPerPeriod) {
            if (w != null) {
                w.suppressed++;
            } else {
                globalSuppressed++;
            }
            return -1;
        }
        if (w == null) {
            w = new Window();
            windows.put(key, w);
        }
        long suppressed = w.suppressed + globalSuppressed;
        w.suppressed = 0;
        globalSuppressed = 0;
        w.loggedAt = now;
        globalCount++;
        return suppressed;
    }
}
