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
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * Users and their API tokens: the users' collection (names, roles, GitHub links, SSH keys, quota
 * overrides) and the one entry point for tokens, whose collection and authentication cache are in
 * {@link Tokens}. Every change to a user drops the cached token lookups, so a deleted user's or a
 * demoted admin's token stops meaning what it did at once.
 */
public final class Users {
    static final String USERS = "users";
    public static final String ADMIN = "admin";
    public static final String MEMBER = "member";
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private final MongoCollection<Document> users;
    private final Tokens tokens;

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
        this.tokens = new Tokens(db, this::get);
        users.createIndex(Indexes.ascending("name"), new IndexOptions().unique(true));
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
        tokens.clearCache();
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
        tokens.clearCache();
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
        return tokens.revokeAll(userId);
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
                tokens.revokeAll(user.id());
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
        return tokens.insert(userId, name, token);
    }

    public List<TokenInfo> tokens(String userId) {
        require(userId);
        return tokens.of(userId);
    }

    public void revokeToken(String id) {
        tokens.revoke(id);
    }

    /** The user a presented token belongs to, if the token is valid. */
    public Optional<User> authenticate(String token) {
        return tokens.authenticate(token);
    }

    private void changed() {
        tokens.changed();
    }

    public static String newToken() {
        return Tokens.newToken();
    }

    private static User user(Document d) {
        return new User(d.getString("_id"), d.getString("name"), d.getString("role"));
    }
}
