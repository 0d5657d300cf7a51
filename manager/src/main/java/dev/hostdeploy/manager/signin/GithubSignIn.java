package dev.hostdeploy.manager.signin;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.hostdeploy.manager.deployments.SecretBox;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.users.Users;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.bson.Document;

/**
 * Sign-in with GitHub (OAuth web flow with {@code state} and PKCE S256). Users are linked by GitHub's
 * numeric user id, never by login: a rename keeps the link and a recycled login gets nothing. An admin
 * named by login is pinned to the id that first signs in with it.
 */
public final class GithubSignIn {
    /** How long a started sign-in may take at GitHub. */
    static final long PENDING_NANOS = 10L * 60 * 1_000_000_000L;
    private static final int MAX_PENDING = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final GithubClient github;
    private final Users users;
    private final MongoCollection<Document> adminPins;
    private final String org;
    private final Set<String> adminLogins;
    private final String callbackUrl;
    private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
    private final SecretBox box;

    /** The settings: {@code org} may be null (then only the admin logins may sign in). */
    public record Settings(URI githubUrl, URI githubApiUrl, String clientId, String clientSecret, String org,
                           Set<String> adminLogins, URI publicUrl) {
        @Override
        public String toString() {
            return "Settings[clientId=" + clientId + ", org=" + org + ", adminLogins=" + adminLogins + "]";
        }
    }

    private record Pending(String verifier, long at) {
    }

    /** Where a started sign-in sends the browser, and the state to bind to it. */
    record Start(URI redirect, String state) {
    }

    /** A sign-in GitHub authenticated but this Manager refuses; the message is shown to the user. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /** @param box seals the users' GitHub tokens kept for the org check (the Manager's AES-GCM key) */
    public GithubSignIn(Settings settings, Database db, Users users, SecretBox box) {
        this.github = client(settings);
        this.box = box;
        this.users = users;
        this.adminPins = db.collection("github_admins");
        this.org = settings.org();
        this.adminLogins = settings.adminLogins().stream().map(l -> l.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        String base = settings.publicUrl().toString();
        this.callbackUrl = (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + SignInRoutes.CALLBACK;
    }

    static GithubClient client(Settings settings) {
        return new GithubClient(settings.githubUrl(), settings.githubApiUrl(), settings.clientId(), settings.clientSecret());
    }

    /** What a stored token is bound to: a sealed token cannot be moved to another user. */
    static String tokenBinding(String userId) {
        return "github-token/" + userId;
    }

    Start start() {
        long now = System.nanoTime();
        pending.values().removeIf(p -> now - p.at() > PENDING_NANOS);
        if (pending.size() >= MAX_PENDING) {
            pending.clear();
        }
        String state = random();
        String verifier = random();
        pending.put(state, new Pending(verifier, now));
        return new Start(github.authorizeUrl(callbackUrl, state, challenge(verifier), "read:org"), state);
    }

    /** Completes a sign-in: the caller to make a session for, or Refused with the reason to show. */
    Caller finish(String state, String code) throws Refused, IOException, InterruptedException {
        Pending p = state == null ? null : pending.remove(state);
        if (p == null || System.nanoTime() - p.at() > PENDING_NANOS) {
            throw new Refused("This sign-in link has expired or was already used. Start again.");
        }
        if (code == null || code.isEmpty()) {
            throw new Refused("GitHub did not authorise the sign-in.");
        }
        String token = github.exchange(code, callbackUrl, p.verifier());
        GithubClient.GithubUser gh = github.user(token);
        boolean admin = adminFor(gh);
        if (org != null) {
            Optional<GithubClient.Membership> m = github.membership(token, org);
            if (m.isEmpty()) {
                throw new Refused("GitHub user " + gh.login() + " is not a member of the " + org
                        + " organisation, so this Manager does not let them in.");
            }
            if (!"active".equals(m.get().state())) {
                throw new Refused("GitHub user " + gh.login() + "'s membership of " + org + " is "
                        + m.get().state() + ": accept the invitation on GitHub, then sign in again.");
            }
        } else if (!admin) {
            throw new Refused("This Manager lets only its named admins sign in with GitHub.");
        }
        Caller caller = link(gh, admin);
        if (org != null) {
            // Kept (sealed) so the daily org check can ask GitHub about this user while they are away.
            users.githubToken(caller.id(), box.sealText(token, tokenBinding(caller.id())));
        }
        return caller;
    }

    /** True when the login is a named admin and the pin (made at the first sign-in) is this GitHub id. */
    private boolean adminFor(GithubClient.GithubUser gh) {
        String login = gh.login().toLowerCase(Locale.ROOT);
        for (Document pin : adminPins.find(Filters.eq("githubId", gh.id()))) {
            if (adminLogins.contains(pin.getString("_id"))) {
                return true; // renamed on GitHub since pinned, still the same account
            }
        }
        if (!adminLogins.contains(login)) {
            return false;
        }
        try {
            adminPins.insertOne(new Document("_id", login).append("githubId", gh.id()));
            return true;
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                return false; // pinned to another account that once had this login
            }
            throw e;
        }
    }

    private Caller link(GithubClient.GithubUser gh, boolean admin) {
        Optional<Users.User> existing = users.byGithubId(gh.id());
        Users.User user;
        if (existing.isPresent()) {
            user = existing.get();
            users.githubLogin(user.id(), gh.login());
            if (admin && !user.admin()) {
                users.role(user.id(), Users.ADMIN);
                user = new Users.User(user.id(), user.name(), Users.ADMIN);
            }
        } else {
            String name = gh.login().toLowerCase(Locale.ROOT);
            if (users.nameTaken(name)) {
                name = name + "-gh" + gh.id(); // never take over an existing account by name
            }
            user = users.createLinked(new Users.NewUser(name, admin ? Users.ADMIN : Users.MEMBER), gh.id(), gh.login());
        }
        return new Caller(user.id(), user.name(), user.role());
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String challenge(String verifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
