package dev.hostdeploy.manager.http;

import dev.hostdeploy.manager.http.Route.Access;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.function.Function;

/**
 * Bearer-token checks: 401 without a valid token, 403 for a member on an admin route, 429 for a wrong
 * token from an address that is being slowed down. A valid token is always accepted, and only wrong
 * tokens count as failures: a request without any token guesses nothing.
 * Without an Authorization header, a browser's session cookie is accepted instead; a mutation made
 * with a cookie must also carry the session's CSRF token, which a cross-site page cannot read.
 */
final class Auth {
    private final Function<String, Optional<Caller>> tokens;
    private final FailedAuthLimiter limiter;
    private final byte[] metricsToken;
    private final CookieSessions sessions;

    Auth(Function<String, Optional<Caller>> tokens, FailedAuthLimiter limiter, String metricsToken) {
        this(tokens, CookieSessions.NONE, limiter, metricsToken);
    }

    Auth(Function<String, Optional<Caller>> tokens, CookieSessions sessions, FailedAuthLimiter limiter,
         String metricsToken) {
        this.tokens = tokens;
        this.sessions = sessions;
        this.limiter = limiter;
        this.metricsToken = metricsToken == null || metricsToken.isEmpty() ? null
                : metricsToken.getBytes(StandardCharsets.UTF_8);
    }

    void check(Context ctx, Access access) {
        if (access == Access.PUBLIC) {
            return;
        }
        String token = bearer(ctx.header("Authorization"));
        String cookie = token == null ? ctx.cookie(CookieSessions.COOKIE) : null;
        if (cookie != null) {
            checkSession(ctx, access, cookie);
            return;
        }
        if (token == null) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "unauthorized", "missing Authorization: Bearer TOKEN header");
        }
        if (access == Access.METRICS && metricsToken != null
                && MessageDigest.isEqual(metricsToken, token.getBytes(StandardCharsets.UTF_8))) {
            ctx.attribute(Requests.ACTOR_ATTRIBUTE, "metrics");
            return;
        }
        Optional<Caller> caller = tokens.apply(token);
        if (caller.isEmpty()) {
            Throttle.refuseIfBlocked(limiter, ctx);
            Throttle.failed(limiter, ctx);
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "unauthorized", "invalid or revoked token");
        }
        ctx.attribute(Requests.CALLER_ATTRIBUTE, caller.get());
        ctx.attribute(Requests.ACTOR_ATTRIBUTE, caller.get().name());
        if ((access == Access.ADMIN || access == Access.METRICS) && !caller.get().admin()) {
            throw new ApiException(403, "forbidden", "this route needs the admin role");
        }
    }

    private void checkSession(Context ctx, Access access, String cookie) {
        CookieSessions.Resolved session = sessions.resolve(cookie).orElseThrow(() ->
                new ApiException(401, "unauthorized", "the session has ended or expired; sign in again"));
        boolean safe = ctx.method() == HandlerType.GET || ctx.method() == HandlerType.HEAD;
        if (!safe) {
            String presented = ctx.header(CookieSessions.CSRF_HEADER);
            if (presented == null || !MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8),
                    session.csrfToken().getBytes(StandardCharsets.UTF_8))) {
                throw new ApiException(403, "csrf_failed", "a change made with a session cookie needs the session's "
                        + CookieSessions.CSRF_HEADER + " header");
            }
        }
        ctx.attribute(Requests.CALLER_ATTRIBUTE, session.caller());
        ctx.attribute(Requests.ACTOR_ATTRIBUTE, session.caller().name());
        if ((access == Access.ADMIN || access == Access.METRICS) && !session.caller().admin()) {
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
