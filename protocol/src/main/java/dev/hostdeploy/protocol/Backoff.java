package dev.hostdeploy.protocol;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Capped exponential backoff with full jitter for reconnects: 1 s, 2 s, 4 s ... at most 30 s. */
public record Backoff(Duration initial, Duration max) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

    public Backoff {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max");
        }
    }

    /** The ceiling for attempt n (0-based) before jitter. */
    public Duration ceiling(int attempt) {
        long ms = initial.toMillis() << Math.min(attempt, 20);
        return Duration.ofMillis(Math.min(ms, max.toMillis()));
    }

    /** The delay before attempt n: uniformly between half the ceiling and the ceiling. */
    public Duration delay(int attempt) {
        long ceiling = ceiling(attempt).toMillis();
        return Duration.ofMillis(ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
    }
}
