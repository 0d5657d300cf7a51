package dev.hostdeploy.manager.http;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down guessing: after {@code freeFailures} wrong tokens from one address, each further wrong
 * token blocks that address for twice as long as the last (from {@code baseDelay}, up to
 * {@code maxDelay}); while blocked, its wrong tokens are answered 429 (valid tokens still work).
 * Success does not reset the count (a valid member token must not buy more guesses); an address that
 * stays quiet for {@code forgetAfter} starts over.
 */
public final class FailedAuthLimiter {
    private final int freeFailures;
    private final long baseNanos;
    private final long maxNanos;
    private final long forgetNanos;
    private final ConcurrentHashMap<String, State> addresses = new ConcurrentHashMap<>();

    private record State(int failures, long lastFailure, long blockedUntil) {
    }

    public FailedAuthLimiter(int freeFailures, Duration baseDelay, Duration maxDelay, Duration forgetAfter) {
        this.freeFailures = freeFailures;
        this.baseNanos = baseDelay.toNanos();
        this.maxNanos = maxDelay.toNanos();
        this.forgetNanos = forgetAfter.toNanos();
    }

    public static FailedAuthLimiter defaults() {
        return new FailedAuthLimiter(5, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(15));
    }

    /** Nanoseconds the address must still wait, or 0. */
    long blockedFor(String address) {
        State s = addresses.get(address);
        if (s == null) {
            return 0;
        }
        return Math.max(0, s.blockedUntil() - System.nanoTime());
    }

    void failed(String address) {
        long now = System.nanoTime();
        if (addresses.size() > 100_000) {
            // Bounded memory under a spray from many addresses; forgetting early only makes us lenient.
            addresses.clear();
        }
        addresses.compute(address, (a, s) -> {
            int failures = s == null || now - s.lastFailure() > forgetNanos ? 1 : s.failures() + 1;
            long blockedUntil = 0;
            if (failures > freeFailures) {
                int doublings = Math.min(failures - freeFailures - 1, 30);
                blockedUntil = now + Math.min(maxNanos, baseNanos << doublings);
            }
            return new State(failures, now, blockedUntil);
        });
    }
}
