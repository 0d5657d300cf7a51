package dev.hostdeploy.manager;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stand-in for GitHub (unreachable from tests) implementing exactly the endpoints sign-in uses: the
 * authorize redirect (as if the user were signed in at GitHub and approved), the code exchange with
 * PKCE S256 checked, {@code GET /user} and {@code GET /user/memberships/orgs/{org}}; memberships may
 * change after sign-in, tokens be revoked and the API go down, for the daily org check.
 */
public final class GithubStandIn implements AutoCloseable {
    public static final String CLIENT_ID = "Iv1.standin";
    public static final String CLIENT_SECRET = "standin-secret";

    /** A GitHub account; membership null: not in the org. */
    public record Account(long id, String login, String membership) {
    }

    private record Grant(Account account, String challenge, String redirectUri) {
    }

    private final HttpServer server;
    private final String org;
    private final Map<String, Grant> codes = new ConcurrentHashMap<>();
    private final Map<String, Account> tokens = new ConcurrentHashMap<>();
    private volatile Account current;
    /** Membership changes on GitHub after sign-in, by account id; "" for no longer a member. */
    private final Map<Long, String> memberships = new ConcurrentHashMap<>();
    /** 0: the API answers; an HTTP status: the API answers only that; -1: connections are dropped. */
    private volatile int outage;

    public GithubStandIn(String org) throws IOException {
        this.org = org;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/login/oauth/authorize", this::authorize);
        server.createContext("/login/oauth/access_token", this::accessToken);
        server.createContext("/api/user", this::user);
        server.start();
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public URI apiUrl() {
        return URI.create(url() + "/api");
    }

    /** The account "signed in at GitHub" that the next authorize approves. */
    public void signedInAs(Account account) {
        current = account;
    }

    /** The account's org membership changes on GitHub: a state such as "pending", or null for none. */
    public void membershipChanged(long accountId, String state) {
        memberships.put(accountId, state == null ? "" : state);
    }

    /** The user revoked this app's tokens on GitHub: their tokens answer 401 from now on. */
    public void tokensRevoked(long accountId) {
        tokens.values().removeIf(a -> a.id() == accountId);
    }

    /** GitHub's API is down: every call answers {@code status}, or -1: the connection is dropped; 0 ends it. */
    public void outage(int status) {
        outage = status;
    }

    private void authorize(HttpExchange ex) throws IOException {
        Map<String, String> q = parse(ex.getRequestURI().getRawQuery());
        if (!CLIENT_ID.equals(q.get("client_id")) || !"S256".equals(q.get("code_challenge_method"))
                || q.get("code_challenge") == null || q.get("state") == null || q.get("redirect_uri") == null) {
            send(ex, 400, "text/plain", "bad authorize request " + q);
            return;
        }
        String code = UUID.randomUUID().toString();
        codes.put(code, new Grant(current, q.get("code_challenge"), q.get("redirect_uri")));
        ex.getResponseHeaders().add("Location", q.get("redirect_uri") + "?code=" + code + "&state="
                + URLEncoder.encode(q.get("state"), StandardCharsets.UTF_8));
        send(ex, 302, "text/plain", "");
    }

    private void accessToken(HttpExchange ex) throws IOException {
        Map<String, String> f = parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        Grant g = f.get("code") == null ? null : codes.remove(f.get("code"));
        if (!"POST".equals(ex.getRequestMethod()) || !CLIENT_ID.equals(f.get("client_id"))
                || !CLIENT_SECRET.equals(f.get("client_secret"))) {
            send(ex, 200, "application/json", "{\"error\":\"incorrect_client_credentials\"}");
            return;
        }
        if (g == null || !g.redirectUri().equals(f.get("redirect_uri")) || f.get("code_verifier") == null
                || !g.challenge().equals(s256(f.get("code_verifier")))) {
            send(ex, 200, "application/json", "{\"error\":\"bad_verification_code\"}");
            return;
        }
        String token = "gho_" + UUID.randomUUID().toString().replace("-", "");
        tokens.put(token, g.account());
        send(ex, 200, "application/json", "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\",\"scope\":\"read:org\"}");
    }

    private void user(HttpExchange ex) throws IOException {
        if (outage < 0) {
            ex.close(); // no response sent: the connection is closed, as when GitHub is unreachable
            return;
        }
        if (outage > 0) {
            send(ex, outage, "application/json", "{\"message\":\"Service unavailable\"}");
            return;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        Account a = auth == null || !auth.startsWith("Bearer ") ? null : tokens.get(auth.substring(7));
        if (a == null) {
            send(ex, 401, "application/json", "{\"message\":\"Bad credentials\"}");
            return;
        }
        String path = ex.getRequestURI().getPath();
        if (path.equals("/api/user")) {
            send(ex, 200, "application/json", "{\"login\":\"" + a.login() + "\",\"id\":" + a.id() + ",\"type\":\"User\"}");
        } else if (path.equals("/api/user/memberships/orgs/" + org) && membership(a) != null) {
            send(ex, 200, "application/json", "{\"state\":\"" + membership(a) + "\",\"role\":\"member\","
                    + "\"organization\":{\"login\":\"" + org + "\"}}");
        } else {
            send(ex, 404, "application/json", "{\"message\":\"Not Found\"}");
        }
    }

    private String membership(Account a) {
        String changed = memberships.get(a.id());
        return changed == null ? a.membership() : changed.isEmpty() ? null : changed;
    }

    private static String s256(String verifier) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> parse(String query) {
        Map<String, String> out = new HashMap<>();
        if (query == null || query.isEmpty()) {
            return out;
        }
        for (String pair : query.split("&")) {
            String[] kv = pair.split("=", 2);
            out.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                    kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
        }
        return out;
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            ex.getResponseBody().write(bytes);
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
