package dev.hostdeploy.manager.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FailedAuthLimiterTest {
    @Test
    void theLeastRecentlySeenBlockedAddressIsTheOneEvictedWhenBlockedAddressesOverflow() {
        FailedAuthLimiter limiter = new FailedAuthLimiter(0, Duration.ofMinutes(1), Duration.ofMinutes(5),
                Duration.ofMinutes(15), 3);
        for (String a : new String[] {"a", "b", "c"}) {
            limiter.failed(a);
        }
        limiter.failed("a");
        limiter.failed("d");
        assertThat(limiter.blockedFor("b")).isZero();
        assertThat(limiter.blockedFor("a")).isPositive();
        assertThat(limiter.blockedFor("c")).isPositive();
        assertThat(limiter.blockedFor("d")).isPositive();
    }

    @Test
    void aBlockedAddressStaysBlockedWhenASprayOfOtherAddressesFillsTheTable() {
        FailedAuthLimiter limiter = new FailedAuthLimiter(1, Duration.ofMinutes(1), Duration.ofMinutes(5),
                Duration.ofMinutes(15));
        for (int i = 0; i < 5; i++) {
            limiter.failed("203.0.113.7");
        }
        assertThat(limiter.blockedFor("203.0.113.7")).isPositive();
        // One guess each from more addresses than the table holds.
        for (int i = 0; i < 150_000; i++) {
            limiter.failed("10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255));
        }
        assertThat(limiter.blockedFor("203.0.113.7")).isPositive();
        // Bounded: one table of addresses still counting, one of blocked ones.
        assertThat(limiter.trackedAddresses()).isLessThanOrEqualTo(2 * FailedAuthLimiter.DEFAULT_MAX_ADDRESSES);
    }
}
