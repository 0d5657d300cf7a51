package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void reconnectDelaysGrowFromOneSecondAndStopAtThirty() {
        Backoff b = Backoff.DEFAULT;
        assertThat(b.ceiling(0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.ceiling(1)).isEqualTo(Duration.ofSeconds(2));
        assertThat(b.ceiling(4)).isEqualTo(Duration.ofSeconds(16));
        assertThat(b.ceiling(5)).isEqualTo(Duration.ofSeconds(30));
        assertThat(b.ceiling(1000)).isEqualTo(Duration.ofSeconds(30));
        for (int attempt = 0; attempt < 50; attempt++) {
            Duration d = b.delay(attempt);
            assertThat(d).isBetween(b.ceiling(attempt).dividedBy(2), b.ceiling(attempt));
        }
    }

    @Test
    void jitterSpreadsReconnectsOfManyClients() {
        long distinct = java.util.stream.IntStream.range(0, 100).mapToObj(i -> Backoff.DEFAULT.delay(5)).distinct().count();
        assertThat(distinct).isGreaterThan(10);
    }

    @Test
    void onlyTransientErrorsAreRetryable() {
        assertThat(java.util.Arrays.stream(ErrorCode.values()).filter(ErrorCode::retryable))
                .containsExactlyInAnyOrder(ErrorCode.BUSY, ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT);
        assertThat(ErrorCode.fromWire("invalid_data")).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(ErrorCode.fromWire("something_new")).isEqualTo(ErrorCode.INTERNAL);
    }
}
