package dev.hostdeploy.manager.http;

import io.javalin.http.Context;
import java.util.Map;

/**
 * The failed-authentication throttle for any route that checks a credential itself (the token sign-in
 * of the console), so guessing tokens there is slowed down exactly as on the bearer header.
 */
public final class Throttle {
    private Throttle() {
    }

    /** 429 with Retry-After while the request's address is blocked. */
    public static void refuseIfBlocked(FailedAuthLimiter limiter, Context ctx) {
        long wait = limiter.blockedFor(ctx.ip());
        if (wait > 0) {
            long seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
            ctx.header("Retry-After", Long.toString(seconds));
            throw new ApiException(429, "too_many_requests",
                    "too many failed authentication attempts from this address; retry in " + seconds + " s",
                    Map.of("retryAfterSeconds", seconds));
        }
    }

    /** Counts one wrong credential from the request's address. */
    public static void failed(FailedAuthLimiter limiter, Context ctx) {
        limiter.failed(ctx.ip());
    }
}
