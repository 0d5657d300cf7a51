package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.store.Users;
import dev.hostdeploy.manager.store.Users.User;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/** Bearer-token checks: 401 without a valid token, 403 for a member on an admin route, 429 when slowed. */
final class Auth {
    static final String USER_ATTRIBUTE = "hd.user";
    static final String ACTOR_ATTRIBUTE = "hd.actor";

    enum Access {
        PUBLIC, MEMBER, ADMIN, METRICS
    }

    private final Users users;
    private final FailedAuthLimiter limiter;
    private final byte[] metricsToken;

    Auth(Users users, FailedAuthLimiter limiter, String metricsToken) {
        this.users = users;
        this.limiter = limiter;
        this.metricsToken = metricsToken == null || metricsToken.isEmpty() ? null
                : metricsToken.getBytes(StandardCharsets.UTF_8);
    }

    void check(Context ctx, Access access) {
        if (access == Access.PUBLIC) {
            return;
        }
        String address = ctx.ip();
        long wait = limiter.blockedFor(address);
        if (wait > 0) {
            long seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
            ctx.header("Retry-After", Long.toString(seconds));
            throw new ApiException(429, "too_many_requests",
                    "too many failed authentication attempts from this address; retry in " + seconds + " s",
                    Map.of("retryAfterSeconds", seconds));
        }
        String token = bearer(ctx.header("Authorization"));
        if (access == Access.METRICS && token != null && metricsToken != null
                && MessageDigest.isEqual(metricsToken, token.getBytes(StandardCharsets.UTF_8))) {
            ctx.attribute(ACTOR_ATTRIBUTE, "metrics");
            return;
        }
        Optional<User> user = token == null ? Optional.empty() : users.authenticate(token);
        if (user.isEmpty()) {
            limiter.failed(address);
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "unauthorized", token == null
                    ? "missing Authorization: Bearer TOKEN header" : "invalid or revoked token");
        }
        ctx.attribute(USER_ATTRIBUTE, user.get());
        ctx.attribute(ACTOR_ATTRIBUTE, user.get().name());
        if ((access == Access.ADMIN || access == Access.METRICS) && !user.get().admin()) {
            throw new ApiException(403, "forbidden", "this route needs the admin role");
        }
    }

    static String bearer(String header) {
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
