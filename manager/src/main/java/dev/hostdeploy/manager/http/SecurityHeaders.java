package dev.hostdeploy.manager.http;

import io.javalin.http.Context;

/**
 * Headers every response carries, pages and API alike: a strict Content-Security-Policy (scripts and
 * styles only from this origin, never inline, so an injected string cannot run), no framing, no MIME
 * sniffing, and no full URLs leaked in Referer.
 */
final class SecurityHeaders {
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";

    private SecurityHeaders() {
    }

    static void apply(Context ctx) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Referrer-Policy", "same-origin");
    }
}
