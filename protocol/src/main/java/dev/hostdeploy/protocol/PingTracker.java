package dev.hostdeploy.protocol;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One connection's WebSocket pings (control frames, which the agent's WebSocket layer answers with a
 * pong on its own): a round trip without a command's JSON on either side, for a heartbeat that at 1,000
 * hosts pings 2,000 agents every 15 s (docs/operations.md, "Where the CPU goes"). At most one ping is in
 * flight; a ping still unanswered when the next is asked for, or when the connection ends, fails. No
 * timer is kept per ping: the caller's own period is its deadline.
 */
final class PingTracker {
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private record InFlight(long seq, long sentNanos, CompletableFuture<Duration> result) {
    }

    private final AtomicReference<InFlight> inFlight = new AtomicReference<>();

    /** Sends a ping on {@code ws}; completes with the round trip when its pong comes back. */
    CompletableFuture<Duration> ping(WebSocket ws) {
        InFlight mine = new InFlight(SEQUENCE.incrementAndGet(), System.nanoTime(), new CompletableFuture<>());
        InFlight before = inFlight.getAndSet(mine);
        if (before != null) {
            before.result().completeExceptionally(unanswered("no pong before the next ping"));
        }
        try {
            ws.sendPing(ByteBuffer.allocate(Long.BYTES).putLong(0, mine.seq())).whenComplete((w, e) -> {
                if (e != null) {
                    finish(mine, e);
                }
            });
        } catch (RuntimeException e) {
            finish(mine, e);
        }
        return mine.result();
    }

    /** A pong from the agent: completes the ping it answers (an unsolicited or stale pong is ignored). */
    void pong(ByteBuffer payload) {
        InFlight p = inFlight.get();
        if (p != null && payload.remaining() == Long.BYTES && payload.getLong(payload.position()) == p.seq()) {
            if (inFlight.compareAndSet(p, null)) {
                p.result().complete(Duration.ofNanos(System.nanoTime() - p.sentNanos()));
            }
        }
    }

    /** The connection ended: a ping in flight will not be answered. */
    void ended() {
        InFlight p = inFlight.getAndSet(null);
        if (p != null) {
            p.result().completeExceptionally(unanswered("the connection ended"));
        }
    }

    private void finish(InFlight p, Throwable error) {
        if (inFlight.compareAndSet(p, null)) {
            p.result().completeExceptionally(error);
        }
    }

    private static AgentCallException unanswered(String why) {
        return new AgentCallException(ErrorData.of(ErrorCode.UNAVAILABLE, "ping unanswered: " + why, null));
    }
}
