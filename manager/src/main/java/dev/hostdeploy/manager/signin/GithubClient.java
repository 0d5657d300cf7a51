package dev.hostdeploy.manager.signin;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.hostdeploy.manager.store.ManagerJson;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The four GitHub endpoints sign-in uses (OAuth web flow): the authorize page, the code exchange
 * (with the PKCE verifier), {@code GET /user} and {@code GET /user/memberships/orgs/{org}}.
 */
final class GithubClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final URI web;
    private final URI api;
    private final String clientId;
    private final String clientSecret;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record TokenReply(@JsonProperty("access_token") String accessToken, String error,
                      @JsonProperty("error_description") String errorDescription) {
        @Override
        public String toString() {
            return "TokenReply[error=" + error + "]";
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record GithubUser(long id, String login) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Membership(String state, String role) {
    }

    GithubClient(URI web, URI api, String clientId, String clientSecret) {
        this.web = trimmed(web);
        this.api = trimmed(api);
        this.clientId = clientId;
        this.clientSecret = clientSecret;
    }

    private static URI trimmed(URI uri) {
        String s = uri.toString();
        return URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    }

    URI authorizeUrl(String redirectUri, String state, String codeChallenge, String scope) {
        Map<String, String> q = new LinkedHashMap<>();
        q.put("client_id", clientId);
        q.put("redirect_uri", redirectUri);
        q.put("scope", scope);
        q.put("state", state);
        q.put("code_challenge", codeChallenge);
        q.put("code_challenge_method", "S256");
        q.put("allow_signup", "false");
        return URI.create(web + "/login/oauth/authorize?" + form(q));
    }

    /** Exchanges the code for a user token; GitHub answers 200 with {@code error} when it refuses. */
    String exchange(String code, String redirectUri, String codeVerifier) throws IOException, InterruptedException {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("client_id", clientId);
        f.put("client_secret", clientSecret);
        f.put("code", code);
        f.put("redirect_uri", redirectUri);
        f.put("code_verifier", codeVerifier);
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(web + "/login/oauth/access_token"))
                .timeout(Duration.ofSeconds(20)).header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(f))).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("GitHub token exchange answered HTTP " + r.statusCode());
        }
        TokenReply reply = ManagerJson.MAPPER.readValue(r.body(), TokenReply.class);
        if (reply.accessToken() == null || reply.accessToken().isEmpty()) {
            throw new IOException("GitHub refused the code: " + (reply.error() == null ? "no access_token" : reply.error()));
        }
        return reply.accessToken();
    }

    GithubUser user(String token) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = get("/user", token);
        if (r.statusCode() != 200) {
            throw new IOException("GitHub /user answered HTTP " + r.statusCode());
        }
        GithubUser u = ManagerJson.MAPPER.readValue(r.body(), GithubUser.class);
        if (u.id() <= 0 || u.login() == null) {
            throw new IOException("GitHub /user gave no id or login");
        }
        return u;
    }

    /** The user's membership of an org; empty when GitHub says they are not a member (404). */
    Optional<Membership> membership(String token, String org) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = get("/user/memberships/orgs/" + URLEncoder.encode(org, StandardCharsets.UTF_8), token);
        if (r.statusCode() == 404 || r.statusCode() == 403) {
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            throw new IOException("GitHub membership check answered HTTP " + r.statusCode());
        }
        return Optional.of(ManagerJson.MAPPER.readValue(r.body(), Membership.class));
    }

    /**
     * What the daily org check learns from GitHub: the membership's state, or that GitHub says the user is no
     * member (404) or no longer accepts the token (401, or 403 for a token whose access was taken away).
     */
    record CheckAnswer(int status, String state) {
        boolean active() {
            return status == 200 && "active".equals(state);
        }
    }

    /**
     * Asks for the membership with a stored token. A network error or a 5xx throws IOException (try again
     * later); every other answer is returned.
     */
    CheckAnswer check(String token, String org) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = get("/user/memberships/orgs/" + URLEncoder.encode(org, StandardCharsets.UTF_8), token);
        return switch (r.statusCode()) {
            case 200 -> new CheckAnswer(200, ManagerJson.MAPPER.readValue(r.body(), Membership.class).state());
            case 401, 403, 404 -> new CheckAnswer(r.statusCode(), null);
            default -> throw new IOException("GitHub membership check answered HTTP " + r.statusCode());
        };
    }

    private HttpResponse<byte[]> get(String path, String token) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(20))
                .header("Accept", "application/vnd.github+json").header("X-GitHub-Api-Version", "2022-11-28")
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String form(Map<String, String> values) {
        return values.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }
}
