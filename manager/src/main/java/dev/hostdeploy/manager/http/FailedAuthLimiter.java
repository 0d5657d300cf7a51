package dev.hostdeploy.manager.http;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows down guessing: after {@code freeFailures} wrong tokens from one address, each further wrong
 * token blocks that address for twice as long as the last (from {@code baseDelay}, up to
 * {@code maxDelay}); while blocked, its wrong tokens are answered 429 (valid tokens still work).
 * Success does not reset the count (a valid member token must not buy more guesses); an address that
 * stays quiet for {@code forgetAfter} starts over.
 *
 * <p>Memory is bounded by evicting the least recently seen address, never by forgetting everything.
 * Addresses still within their free failures and addresses past them are kept apart, each table with
 * its own bound: a spray of one guess each from many addresses only churns the first, so a blocked
 * address stays blocked unless someone spends more than {@code freeFailures} guesses on each of
 * {@code maxAddresses} other addresses.
 */
public final class FailedAuthLimiter {
    static final int DEFAULT_MAX_ADDRESSES = 100_000;

    private final int freeFailures;
    private final long baseNanos;
    private final long maxNanos;
    private final long forgetNanos;
    private final Map<String, State> counting;
    private final Map<String, State> blocking;

    private record State(int failures, long lastFailure, long blockedUntil) {
    }

    public FailedAuthLimiter(int freeFailures, Duration baseDelay, Duration maxDelay, Duration forgetAfter) {
        this(freeFailures, baseDelay, maxDelay, forgetAfter, DEFAULT_MAX_ADDRESSES);
    }

    FailedAuthLimiter(int freeFailures, Duration baseDelay, Duration maxDelay, Duration forgetAfter, int maxAddresses) {
        this.freeFailures = freeFailures;
        this.baseNanos = baseDelay.toNanos();
        this.maxNanos = maxDelay.toNanos();
        this.forgetNanos = forgetAfter.toNanos();
        this.counting = lru(maxAddresses);
        this.blocking = lru(maxAddresses);
    }

    /** Access-ordered: the eldest entry is the address seen least recently. */
    private static Map<String, State> lru(int max) {
        return new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, State> eldest) {
                return size() > max;
            }
        };
    }

    public static FailedAuthLimiter defaults() {
        return new FailedAuthLimiter(5, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(15));
    }

    /** Nanoseconds the address must still wait, or 0. Public for other guessable secrets (invitation codes). */
    public synchronized long blockedFor(String address) {
        State s = blocking.get(address);
        if (s == null) {
            return 0;
        }
        return Math.max(0, s.blockedUntil() - System.nanoTime());
    }

    /** Counts one wrong guess (a token, an invitation code) from the address. */
    public synchronized void failed(String address) {
        long now = System.nanoTime();
        State s = blocking.remove(address);
        if (s == null) {
            s = counting.remove(address);
        }
        int failures = s == null || now - s.lastFailure() > forgetNanos ? 1 : s.failures() + 1;
        if (failures > freeFailures) {
            int doublings = Math.min(failures - freeFailures - 1, 30);
            blocking.put(address, new State(failures, now, now + Math.min(maxNanos, baseNanos << doublings)));
        } else {
            counting.put(address, new State(failures, now, 0));
        }
    }

    /** How many addresses are remembered now. */
    synchronized int trackedAddresses() {
        return counting.size() + blocking.size();
    }
}
