package dev.hostdeploy.manager.sessions;

import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.http.CookieSessions;
import dev.hostdeploy.manager.users.UserService;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs browsers in and out: makes the session, sets its cookie (HttpOnly, SameSite=Lax, Secure when the
 * public URL is https) and resolves cookies for the HTTP layer. A purge runs hourly because the embedded
 * store does not honour TTL indexes.
 */
public final class SessionService implements CookieSessions, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionService.class);

    private final Sessions sessions;
    private final UserService users;
    private final Duration ttl;
    private final boolean secure;
    private final ScheduledExecutorService purger = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "session-purge");
        t.setDaemon(true);
        return t;
    });

    /** What the console learns about its session: who, and the token its mutations send. */
    public record SessionInfo(Caller user, String csrfToken, Instant expiresAt) {
        @Override
        public String toString() {
            return "SessionInfo[user=" + user + ", expiresAt=" + expiresAt + "]";
        }
    }

    public SessionService(Sessions sessions, UserService users, Duration ttl, boolean secure) {
        this.sessions = sessions;
        this.users = users;
        this.ttl = ttl;
        this.secure = secure;
        purger.scheduleWithFixedDelay(this::purge, 1, 60, TimeUnit.MINUTES);
    }

    private void purge() {
        try {
            sessions.purge();
        } catch (RuntimeException e) {
            LOG.warn("session purge failed: {}", e.toString());
        }
    }

    /** Starts a session for a user and sets its cookie on the response. */
    public SessionInfo signIn(Context ctx, Caller user, String via) {
        Sessions.NewSession s = sessions.create(user.id(), ttl, via);
        Cookie cookie = new Cookie(COOKIE, s.id(), "/", (int) ttl.toSeconds(), secure, 0, true, null, null,
                SameSite.LAX);
        ctx.cookie(cookie);
        return new SessionInfo(user, s.csrfToken(), s.expiresAt());
    }

    /** Ends the request's session server-side and clears the cookie. */
    public void signOut(Context ctx) {
        sessions.delete(ctx.cookie(COOKIE));
        ctx.cookie(new Cookie(COOKIE, "", "/", 0, secure, 0, true, null, null, SameSite.LAX));
    }

    public Optional<SessionInfo> current(Context ctx) {
        String id = ctx.cookie(COOKIE);
        return sessions.find(id).flatMap(s -> users.caller(s.userId())
                .map(c -> new SessionInfo(c, s.csrfToken(), s.expiresAt())));
    }

    @Override
    public Optional<Resolved> resolve(String sessionId) {
        return sessions.find(sessionId).flatMap(s -> users.caller(s.userId())
                .map(c -> new Resolved(c, s.csrfToken())));
    }

    public long endAllFor(String userId) {
        return sessions.deleteForUser(userId);
    }

    @Override
    public void close() {
        purger.shutdownNow();
    }
}
