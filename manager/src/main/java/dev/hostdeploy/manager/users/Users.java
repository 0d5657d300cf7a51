package dev.hostdeploy.manager.users;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * Users and their API tokens. A token is 256 random bits, shown once; only its SHA-256 is stored, so a
 * database leak does not leak usable tokens. Lookups are cached briefly and the cache is dropped on
 * every change to users or tokens, so a revoked token stops working at once.
 */
public final class Users {
    static final String USERS = "users";
    static final String TOKENS = "tokens";
    public static final String ADMIN = "admin";
    public static final String MEMBER = "member";
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    static final String TOKEN_PREFIX = "hd_";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long CACHE_NANOS = 5_000_000_000L;

    private final MongoCollection<Document> users;
    private final MongoCollection<Document> tokens;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
    /**
     * Bumped on every change to users or tokens: a lookup that read the store before a revocation
     * must not put its stale answer into the cache after the revocation cleared it.
     */
    private final AtomicLong generation = new AtomicLong();

    private record Cached(User user, long at) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record User(String id, String name, String role) {
        public boolean admin() {
            return ADMIN.equals(role);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewUser(String name, String role) {
        public NewUser {
            Validation.required(name, "name");
            Validation.require(NAME.matcher(name).matches(), "name",
                    "must be 1-63 of a-z, 0-9, '.', '_', '-' starting with a letter or digit");
            role = role == null ? MEMBER : role;
            Validation.require(ADMIN.equals(role) || MEMBER.equals(role), "role", "must be admin or member");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewToken(String id, String token) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TokenInfo(String id, String userId, String name, java.time.Instant createdAt) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TokenRequest(String name) {
        public TokenRequest {
            Validation.require(name == null || name.length() <= 100, "name", "must be at most 100 characters");
        }
    }

    /** A member's SSH public keys, as {@code GET/PUT /me/keys} carries them (one OpenSSH line each). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SshKeyList(List<String> keys) {
        public SshKeyList {
            Validation.required(keys, "keys");
            // Checked as the Worker checks them, and stored normalized (duplicates dropped).
            keys = dev.hostdeploy.schema.lxc.SshKeys.parseAll(keys, "keys").stream()
                    .map(dev.hostdeploy.schema.lxc.SshKeys.Key::line).toList();
        }
    }

    /**
     * An admin's override of a member's container quota; each null field is the Manager's default.
     * {@code memory} and {@code disk} are LXD sizes ("4GiB").
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Quota(Integer containers, Integer cpus, String memory, String disk, Integer domains) {
        public Quota {
            Validation.require(domains == null || (domains >= 0 && domains <= 10_000), "domains", "must be 0-10000");
            Validation.require(containers == null || (containers >= 0 && containers <= 10_000), "containers",
                    "must be 0-10000");
            Validation.require(cpus == null || (cpus >= 0 && cpus <= 100_000), "cpus", "must be 0-100000");
            Validation.require(memory == null || dev.hostdeploy.schema.lxc.LxcRules.sizeBytes(memory) != null,
                    "memory", "must be an LXD size such as \"4GiB\"");
            Validation.require(disk == null || dev.hostdeploy.schema.lxc.LxcRules.sizeBytes(disk) != null,
                    "disk", "must be an LXD size such as \"50GiB\"");
        }

        public static Quota defaults() {
            return new Quota(null, null, null, null, null);
        }
    }

    /** {@code PATCH /users/{id}}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record UserPatch(Quota quota) {
        public UserPatch {
            Validation.required(quota, "quota");
        }
    }

    /** {@code PATCH /users/{id}}'s reply: the user's quota override as now stored. */
    public record UserQuota(String id, String name, Quota quota) {
    }

    public Users(Database db) {
        this.users = db.collection(USERS);
        this.tokens = db.collection(TOKENS);
        IndexOptions unique = new IndexOptions().unique(true);
        users.createIndex(Indexes.ascending("name"), unique);
        tokens.createIndex(Indexes.ascending("hash"), unique);
        tokens.createIndex(Indexes.ascending("userId"));
        users.createIndex(Indexes.ascending("github.id"));
    }

    /** The user linked to a GitHub account (by its numeric id, which survives renames). */
    public Optional<User> byGithubId(long githubId) {
        return Optional.ofNullable(users.find(Filters.eq("github.id", githubId)).first()).map(Users::user);
    }

    public boolean nameTaken(String name) {
        return users.countDocuments(Filters.eq("name", name)) > 0;
    }

    /** Creates a user linked to a GitHub account at its first sign-in. */
    public User createLinked(NewUser request, long githubId, String githubLogin) {
        Document doc = new Document("_id", Store.newId()).append("name", request.name())
                .append("role", request.role()).append("createdAt", new Date())
                .append("github", new Document("id", githubId).append("login", githubLogin));
        try {
            users.insertOne(doc);
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("a user named " + request.name() + " already exists");
            }
            throw e;
        }
        cache.clear();
        return user(doc);
    }

    /** Records the GitHub login seen at the latest sign-in (display only; the link is the id). */
    public void githubLogin(String id, String login) {
        users.updateOne(Filters.eq("_id", id), com.mongodb.client.model.Updates.set("github.login", login));
    }

    /**
     * The GitHub OAuth token of the latest sign-in, sealed by the caller (AES-GCM, bound to the user), kept
     * so the org membership can be checked while the user is away; null forgets it.
     */
    public void githubToken(String id, String sealed) {
        users.updateOne(Filters.eq("_id", id), sealed == null ? com.mongodb.client.model.Updates.unset("github.token")
                : com.mongodb.client.model.Updates.set("github.token", sealed));
    }

    /** A user linked to GitHub with a stored (sealed) token: what the org check goes through. */
    public record GithubLink(String userId, String name, long githubId, String login, String sealedToken) {
        @Override
        public String toString() {
            return "GithubLink[userId=" + userId + ", name=" + name + ", githubId=" + githubId + "]";
        }
    }

    public List<GithubLink> githubLinks() {
        List<GithubLink> out = new java.util.ArrayList<>();
        for (Document d : users.find(Filters.exists("github.token"))) {
            Document g = d.get("github", Document.class);
            out.add(new GithubLink(d.getString("_id"), d.getString("name"), ((Number) g.get("id")).longValue(),
                    g.getString("login"), g.getString("token")));
        }
        return out;
    }

    public void role(String id, String role) {
        users.updateOne(Filters.eq("_id", id), com.mongodb.client.model.Updates.set("role", role));
        cache.clear();
    }

    public long count() {
        return users.countDocuments();
    }

    public User create(NewUser request) {
        Document doc = new Document("_id", Store.newId()).append("name", request.name())
                .append("role", request.role()).append("createdAt", new Date());
        try {
            users.insertOne(doc);
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("a user named " + request.name() + " already exists");
            }
            throw e;
        }
        changed();
        return user(doc);
    }

    public List<User> list() {
        List<User> out = new ArrayList<>();
        for (Document d : users.find().sort(Sorts.ascending("name"))) {
            out.add(user(d));
        }
        return out;
    }

    public Optional<User> get(String id) {
        return Optional.ofNullable(users.find(Filters.eq("_id", id)).first()).map(Users::user);
    }

    public User require(String id) {
        return get(id).orElseThrow(() -> ProtocolException.notFound("no user " + id));
    }

    /** Deletes a user and every token it holds; the last admin cannot be deleted. */
    public User delete(String id) {
        return remove(id).user();
    }

    /** A deleted user and how many tokens it held. */
    public record Removed(User user, long tokens) {
    }

    /** Deletes a user and every token it holds (tokens first); the last admin cannot be deleted. */
    public Removed remove(String id) {
        User user = require(id);
        if (user.admin() && users.countDocuments(Filters.eq("role", ADMIN)) <= 1) {
            throw ProtocolException.conflict("cannot delete the last admin");
        }
        long revoked = revokeAllTokens(id);
        users.deleteOne(Filters.eq("_id", id));
        changed();
        return new Removed(user, revoked);
    }

    /** Revokes every token of a user; returns how many there were. */
    public long revokeAllTokens(String userId) {
        long revoked = tokens.deleteMany(Filters.eq("userId", userId)).getDeletedCount();
        changed();
        return revoked;
    }

    /** A new user and its first token (the token value shown once). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Created(User user, NewToken token) {
        @Override
        public String toString() {
            return "Created[user=" + user + ", token=" + token.id() + "]";
        }
    }

    /**
     * Creates a user and its first token together, then runs {@code andThen} (e.g. marking an invitation
     * used); if any step fails the user and its token are removed again, so nothing half-made remains.
     */
    public Created createWithToken(NewUser request, String tokenName, Consumer<User> andThen) {
        User user = create(request);
        try {
            NewToken token = insertToken(user.id(), tokenName, newToken());
            andThen.accept(user);
            return new Created(user, token);
        } catch (RuntimeException e) {
            try {
                tokens.deleteMany(Filters.eq("userId", user.id()));
                users.deleteOne(Filters.eq("_id", user.id()));
                changed();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The user's SSH public keys; empty when none were set. */
    public List<String> keys(String id) {
        Document d = users.find(Filters.eq("_id", id)).first();
        if (d == null) {
            throw ProtocolException.notFound("no user " + id);
        }
        return d.getList("sshKeys", String.class, List.of());
    }

    public void setKeys(String id, SshKeyList keys) {
        if (users.updateOne(Filters.eq("_id", id), com.mongodb.client.model.Updates.set("sshKeys", keys.keys()))
                .getMatchedCount() == 0) {
            throw ProtocolException.notFound("no user " + id);
        }
    }

    /** The user's quota override (null fields: the defaults). */
    public Quota quota(String id) {
        Document d = users.find(Filters.eq("_id", id)).first();
        if (d == null) {
            throw ProtocolException.notFound("no user " + id);
        }
        Document q = d.get("quota", Document.class);
        return q == null ? Quota.defaults() : new Quota(q.getInteger("containers"), q.getInteger("cpus"),
                q.getString("memory"), q.getString("disk"), q.getInteger("domains"));
    }

    public void setQuota(String id, Quota quota) {
        Document q = new Document("containers", quota.containers()).append("cpus", quota.cpus())
                .append("memory", quota.memory()).append("disk", quota.disk())
                .append("domains", quota.domains());
        if (users.updateOne(Filters.eq("_id", id), com.mongodb.client.model.Updates.set("quota", q))
                .getMatchedCount() == 0) {
            throw ProtocolException.notFound("no user " + id);
        }
    }

    public NewToken createToken(String userId, String name) {
        require(userId);
        return insertToken(userId, name, newToken());
    }

    /** Stores a token chosen by the operator (the bootstrap token); only its hash is kept. */
    public NewToken insertToken(String userId, String name, String token) {
        String id = Store.newId();
        try {
            tokens.insertOne(new Document("_id", id).append("userId", userId).append("name", name)
                    .append("hash", hash(token)).append("createdAt", new Date()));
        } catch (MongoWriteException e) {
            if (Store.duplicateKey(e)) {
                throw ProtocolException.conflict("token already exists");
            }
            throw e;
        }
        changed();
        return new NewToken(id, token);
    }

    public List<TokenInfo> tokens(String userId) {
        require(userId);
        List<TokenInfo> out = new ArrayList<>();
        for (Document d : tokens.find(Filters.eq("userId", userId)).sort(Sorts.ascending("createdAt"))) {
            out.add(new TokenInfo(d.getString("_id"), d.getString("userId"), d.getString("name"), d.getDate("createdAt").toInstant()));
        }
        return out;
    }

    public void revokeToken(String id) {
        if (tokens.deleteOne(Filters.eq("_id", id)).getDeletedCount() == 0) {
            throw ProtocolException.notFound("no token " + id);
        }
        changed();
    }

    /** The user a presented token belongs to, if the token is valid. */
    public Optional<User> authenticate(String token) {
        if (token == null || token.isEmpty() || token.length() > 200) {
            return Optional.empty();
        }
        String hash = hash(token);
        long now = System.nanoTime();
        long seen = generation.get();
        Cached cached = cache.get(hash);
        if (cached != null && now - cached.at() < CACHE_NANOS) {
            return Optional.ofNullable(cached.user());
        }
        Document t = tokens.find(Filters.eq("hash", hash)).first();
        User user = t == null ? null : get(t.getString("userId")).orElse(null);
        if (user != null) {
            // Only hits are cached: misses would let a flood of random tokens grow the map.
            if (cache.size() > 10_000) {
                cache.clear();
            }
            cache.put(hash, new Cached(user, now));
            if (generation.get() != seen) {
                // Users or tokens changed while this lookup read the store: its answer may be stale.
                cache.remove(hash);
            }
        }
        return Optional.ofNullable(user);
    }

    private void changed() {
        generation.incrementAndGet();
        cache.clear();
    }

    public static String newToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String hash(String token) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static User user(Document d) {
        return new User(d.getString("_id"), d.getString("name"), d.getString("role"));
    }
}
