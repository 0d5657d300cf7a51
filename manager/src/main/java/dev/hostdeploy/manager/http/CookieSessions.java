package dev.hostdeploy.manager.http;

import java.util.Optional;

/**
 * Browser sessions as {@link Auth} sees them: the opaque id a cookie carries resolves to a caller and
 * the CSRF token the session's mutations must present. Implemented by the sessions feature.
 */
public interface CookieSessions {
    /** The session cookie's name. */
    String COOKIE = "hd_session";
    /** The header a cookie-authenticated mutation must carry, equal to its session's CSRF token. */
    String CSRF_HEADER = "X-CSRF-Token";

    /** No browser sessions: only bearer tokens are accepted. */
    CookieSessions NONE = id -> Optional.empty();

    record Resolved(Caller caller, String csrfToken) {
    }

    /** The live (unexpired, not signed out) session an id names. */
    Optional<Resolved> resolve(String sessionId);
}
