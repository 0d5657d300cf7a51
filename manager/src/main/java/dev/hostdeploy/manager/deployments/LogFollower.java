package dev.hostdeploy.manager.deployments;

import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.schema.deploy.DeploySchema.LogLine;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsResult;
import io.javalin.http.sse.SseClient;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code GET .../logs?follow=true}: the services' own output as Server-Sent Events ({@code event: line},
 * data a {@link LogLine}). Sends the tail first, then asks the Worker's {@code deploy.logs} again every
 * {@code every} for what came {@code since} the newest line sent, dropping by each line's Docker timestamp
 * what was already sent. One poll at a time per client; stops when the client goes away (noticed at the
 * latest by the comment sent each poll) or the deployment is deleted.
 */
final class LogFollower {
    private final SseClient client;
    private final ScheduledExecutorService timer;
    private final Duration every;
    /** Asks deploy.logs with a {@code since} (null: the tail). */
    private final Function<String, CompletableFuture<LogsResult>> logs;
    /** Per container, the time of the newest line sent. */
    private final Map<String, Instant> seen = new HashMap<>();
    private Instant cursor;

    private LogFollower(SseClient client, ScheduledExecutorService timer, Duration every,
                        Function<String, CompletableFuture<LogsResult>> logs) {
        this.client = client;
        this.timer = timer;
        this.every = every;
        this.logs = logs;
    }

    static void follow(SseClient client, ScheduledExecutorService timer, Duration every,
                       Function<String, CompletableFuture<LogsResult>> logs) {
        LogFollower f = new LogFollower(client, timer, every, logs);
        f.cursor = Instant.now();
        f.poll(null);
    }

    private void poll(String since) {
        if (client.terminated()) {
            return;
        }
        logs.apply(since).whenComplete((result, error) -> {
            if (client.terminated()) {
                return;
            }
            if (error != null) {
                Throwable c = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                if (c instanceof AgentCallException a && a.code() == ErrorCode.NOT_FOUND && since != null) {
                    client.sendEvent("error", ErrorData.of(a.code(), a.getMessage(), null));
                    client.close(); // the deployment is gone
                    return;
                }
                // The Worker may be reconnecting: say so and keep following.
                client.sendEvent("error", ErrorData.of(c instanceof AgentCallException a ? a.code()
                        : ErrorCode.UNAVAILABLE, String.valueOf(c.getMessage()), null));
            } else {
                send(result, since == null);
            }
            client.sendComment("");
            if (!client.terminated()) {
                // The Worker's since counts whole seconds: ask from the start of the newest line's second.
                String next = cursor.truncatedTo(ChronoUnit.SECONDS).toString();
                timer.schedule(() -> poll(next), every.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
    }

    private void send(LogsResult result, boolean tail) {
        Instant before = cursor;
        Instant newest = cursor;
        for (LogLine l : result.lines()) {
            Instant at = parse(l.time());
            if (!tail) {
                // A container first seen now (a redeploy) counts from where the previous poll ended.
                Instant last = seen.getOrDefault(l.containerId(), before);
                if (at == null || !at.isAfter(last)) {
                    continue;
                }
            }
            client.sendEvent("line", l);
            if (at != null) {
                seen.merge(l.containerId(), at, (a, b) -> a.isAfter(b) ? a : b);
                if (at.isAfter(newest)) {
                    newest = at;
                }
            }
        }
        if (tail) {
            // Lines older than the follow's start came with the tail; count later ones from there.
            seen.replaceAll((k, v) -> v.isAfter(before) ? v : before);
        }
        cursor = newest;
    }

    private static Instant parse(String time) {
        try {
            return time == null ? null : Instant.parse(time);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
