package dev.hostdeploy.manager.signin;

import static dev.hostdeploy.manager.http.Route.API;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.http.FailedAuthLimiter;
import dev.hostdeploy.manager.http.Throttle;
import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.sessions.SessionService;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.protocol.Validation;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signing browsers in (with an API token, or through GitHub) and out. The session routes are JSON only:
 * a cross-site form cannot send JSON, so nobody can sign a victim into the attacker's account.
 */
public final class SignInRoutes implements RouteGroup {
    static final String START = "/auth/github";
    static final String CALLBACK = "/auth/github/callback";
    private static final String STATE_COOKIE = "hd_oauth_state";
    private static final Logger LOG = LoggerFactory.getLogger(SignInRoutes.class);

    private final SessionService sessions;
    private final UserService users;
    private final GithubSignIn github;
    private final AuditLog audit;
    private final boolean secure;
    private final FailedAuthLimiter limiter;
    private final String publicUrl;

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TokenSignIn(String token) {
        public TokenSignIn {
            Validation.required(token, "token");
        }

        @Override
        public String toString() {
            return "TokenSignIn[]";
        }
    }

    /** What the sign-in page offers, and the public address (the console shows the webhook URL from it). */
    public record SignInOptions(boolean github, boolean token, String publicUrl) {
    }

    /** @param github null when GitHub sign-in is not configured */
    public SignInRoutes(SessionService sessions, UserService users, GithubSignIn github, AuditLog audit, boolean secure,
                        FailedAuthLimiter limiter, java.net.URI publicUrl) {
        this.limiter = limiter;
        String url = publicUrl.toString();
        this.publicUrl = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.sessions = sessions;
        this.users = users;
        this.github = github;
        this.audit = audit;
        this.secure = secure;
    }

    @Override
    public List<Route> routes() {
        return List.of(
                Route.get(API + "/signin/options").open().doc("getSignInOptions", "Which ways of signing in this Manager offers")
                        .returns("SignInOptions").handle(ctx -> ctx.json(new SignInOptions(github != null, true, publicUrl))),
                Route.post(API + "/session").open()
                        .doc("createSession", "Sign a browser in with an API token: sets the session cookie")
                        .audit("session.create").body("TokenSignIn").returns(201, "Session").handle(this::tokenSignIn),
                Route.get(API + "/session").member()
                        .doc("getSession", "The browser's session: its user and the CSRF token its changes must send")
                        .returns("Session").handle(ctx -> ctx.json(sessions.current(ctx).orElseThrow(() ->
                                new ApiException(404, "not_found", "this request has no browser session")))),
                Route.delete(API + "/session").member().doc("deleteSession", "Sign out: ends the session server-side")
                        .audit("session.delete").noContent().handle(ctx -> {
                            Requests.target(ctx, "user/" + Requests.caller(ctx).name());
                            sessions.signOut(ctx);
                            ctx.status(204);
                        }),
                Route.get(START).open().doc("startGithubSignIn", "Redirects the browser to GitHub to sign in")
                        .returns(302, null).handle(this::startGithub),
                Route.get(CALLBACK).open()
                        .doc("finishGithubSignIn", "GitHub redirects here; sets the session cookie and goes to the console")
                        .query("code", "string", "from GitHub").query("state", "string", "from GitHub")
                        .returns(302, null).handle(this::finishGithub));
    }

    private void tokenSignIn(Context ctx) {
        TokenSignIn req = Requests.body(ctx, TokenSignIn.class);
        Optional<Caller> caller = users.authenticate(req.token());
        if (caller.isEmpty()) {
            // Guessing tokens here is slowed down as on the Authorization header.
            Throttle.refuseIfBlocked(limiter, ctx);
            Throttle.failed(limiter, ctx);
            throw new ApiException(401, "unauthorized", "invalid or revoked token");
        }
        Requests.target(ctx, "user/" + caller.get().name());
        ctx.status(201).json(sessions.signIn(ctx, caller.get(), "token"));
    }

    private void startGithub(Context ctx) {
        if (github == null) {
            throw new ApiException(404, "not_found", "sign-in with GitHub is not configured on this Manager");
        }
        GithubSignIn.Start start = github.start();
        // Binds the flow to this browser: a callback URL planted in another browser finds no matching cookie.
        ctx.cookie(new Cookie(STATE_COOKIE, start.state(), CALLBACK, 600, secure, 0, true, null, null, SameSite.LAX));
        ctx.redirect(start.redirect().toString());
    }

    private void finishGithub(Context ctx) throws Exception {
        if (github == null) {
            throw new ApiException(404, "not_found", "sign-in with GitHub is not configured on this Manager");
        }
        String state = ctx.queryParam("state");
        String bound = ctx.cookie(STATE_COOKIE);
        ctx.cookie(new Cookie(STATE_COOKIE, "", CALLBACK, 0, secure, 0, true, null, null, SameSite.LAX));
        try {
            if (state == null || !state.equals(bound)) {
                throw new GithubSignIn.Refused("This sign-in was not started in this browser. Start again.");
            }
            Caller caller = github.finish(state, ctx.queryParam("code"));
            sessions.signIn(ctx, caller, "github");
            audit.record(caller.name(), "session.create", "user/" + caller.name(), "ok", ctx.ip());
            ctx.redirect("/");
        } catch (GithubSignIn.Refused e) {
            audit.record("anonymous", "session.create", "github", "refused", ctx.ip());
            refusedPage(ctx, 403, e.getMessage());
        } catch (java.io.IOException e) {
            LOG.warn("GitHub sign-in failed: {}", e.toString());
            refusedPage(ctx, 502, "GitHub could not be reached or refused the sign-in (" + e.getMessage() + ").");
        }
    }

    private static void refusedPage(Context ctx, int status, String message) {
        ctx.status(status).contentType("text/html; charset=utf-8").result("""
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>Sign-in refused - hostdeploy</title><link rel="stylesheet" href="/console.css"></head>
                <body><main class="narrow"><h1>Sign-in refused</h1>
                <p id="refusal" role="alert">%s</p>
                <p><a href="/">Back to the sign-in page</a></p></main></body></html>
                """.formatted(escape(message)));
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
