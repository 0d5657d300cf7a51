package dev.hostdeploy.manager.invites;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.users.Users;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.protocol.Validation;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.bson.Document;

/**
 * Invitations: one-time codes that let someone create their own user. A code is 256 random bits,
 * shown once; only its SHA-256 is stored, like a token's. An invitation is claimed by one conditional
 * update (unused, unrevoked, unexpired), so only one accept can win it.
 */
public final class Invites {
    static final String INVITES = "invites";
    static final String CODE_PREFIX = "hdi_";
    public static final long DEFAULT_EXPIRES_IN = Duration.ofDays(7).toSeconds();
    public static final long MIN_EXPIRES_IN = 60;
    public static final long MAX_EXPIRES_IN = Duration.ofDays(90).toSeconds();
    /** Longer path segments are not codes; refused without a lookup. */
    static final int MAX_CODE = 100;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final MongoCollection<Document> invites;

    /** An invitation as listed: never its code. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Invite(String id, String role, String createdBy, Instant createdAt, Instant expiresAt,
                         Instant usedAt, String usedBy, String userId, Instant revokedAt) {
    }

    /** The body of {@code POST /invites}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record InviteRequest(String role, Long expiresIn) {
        public InviteRequest {
            role = role == null ? Users.MEMBER : role;
            Validation.require(Users.ADMIN.equals(role) || Users.MEMBER.equals(role), "role", "must be admin or member");
            expiresIn = expiresIn == null ? DEFAULT_EXPIRES_IN : expiresIn;
            Validation.require(expiresIn >= MIN_EXPIRES_IN && expiresIn <= MAX_EXPIRES_IN, "expiresIn",
                    "must be " + MIN_EXPIRES_IN + "-" + MAX_EXPIRES_IN + " seconds");
        }
    }

    /** A new invitation: the only time its code is shown. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NewInvite(String id, String code, String role, Instant createdAt, Instant expiresAt) {
        @Override
        public String toString() {
            return "NewInvite[id=" + id + ", role=" + role + ", expiresAt=" + expiresAt + "]";
        }
    }

    /** The body of {@code POST /invites/{code}/accept}: the name is checked as for {@code POST /users}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record AcceptRequest(String name) {
        public AcceptRequest {
            new Users.NewUser(name, Users.MEMBER);
        }
    }

    /** The user an invitation made and its first token: the only time the token is shown. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Accepted(Users.User user, Users.NewToken token, String inviteId) {
        @Override
        public String toString() {
            return "Accepted[user=" + user + ", token=" + token.id() + ", inviteId=" + inviteId + "]";
        }
    }

    public Invites(Database db) {
        this.invites = db.collection(INVITES);
        invites.createIndex(Indexes.ascending("hash"), new IndexOptions().unique(true));
    }

    public NewInvite create(String role, String createdBy, Duration expiresIn) {
        String code = newCode();
        // Millisecond precision, as stored: the listing shows the same instants as this answer.
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant expires = now.plus(expiresIn);
        String id = Store.newId();
        invites.insertOne(new Document("_id", id).append("hash", hash(code)).append("role", role)
                .append("createdBy", createdBy).append("createdAt", Date.from(now))
                .append("expiresAt", Date.from(expires)));
        return new NewInvite(id, code, role, now, expires);
    }

    public List<Invite> list() {
        List<Invite> out = new ArrayList<>();
        for (Document d : invites.find().sort(Sorts.descending("createdAt"))) {
            out.add(invite(d));
        }
        return out;
    }

    public Invite require(String id) {
        return Optional.ofNullable(invites.find(Filters.eq("_id", id)).first()).map(Invites::invite)
                .orElseThrow(() -> ProtocolException.notFound("no invitation " + id));
    }

    /** Revokes an unused invitation; a used one is 409 (its user is deleted through /users). */
    public Invite revoke(String id) {
        Invite invite = require(id);
        if (invite.usedAt() != null) {
            throw ProtocolException.conflict("invitation " + id + " was already used by " + invite.usedBy());
        }
        if (invite.revokedAt() == null) {
            invites.updateOne(Filters.and(Filters.eq("_id", id), Filters.exists("usedAt", false)),
                    Updates.set("revokedAt", new Date()));
        }
        return invite;
    }

    /**
     * Claims the invitation a code belongs to if it is still usable at {@code now}: marks it used in one
     * conditional update, so of two concurrent claims at most one gets it.
     */
    public Optional<Invite> claim(String code, Instant now) {
        if (code == null || code.length() > MAX_CODE || !code.startsWith(CODE_PREFIX)) {
            return Optional.empty();
        }
        Document d = invites.findOneAndUpdate(Filters.and(Filters.eq("hash", hash(code)),
                        Filters.exists("usedAt", false), Filters.exists("revokedAt", false),
                        Filters.gt("expiresAt", Date.from(now))),
                Updates.set("usedAt", Date.from(now)), new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
        return Optional.ofNullable(d).map(Invites::invite);
    }

    /** Records who a claimed invitation made. */
    public void completed(String id, Users.User user) {
        invites.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("usedBy", user.name()),
                Updates.set("userId", user.id())));
    }

    /** Gives a claimed invitation back (its user could not be made, e.g. the name is taken). */
    public void release(String id) {
        invites.updateOne(Filters.eq("_id", id), Updates.combine(Updates.unset("usedAt"), Updates.unset("usedBy"),
                Updates.unset("userId")));
    }

    static String newCode() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return CODE_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String hash(String code) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(code.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Invite invite(Document d) {
        return new Invite(d.getString("_id"), d.getString("role"), d.getString("createdBy"), instant(d, "createdAt"),
                instant(d, "expiresAt"), instant(d, "usedAt"), d.getString("usedBy"), d.getString("userId"),
                instant(d, "revokedAt"));
    }

    private static Instant instant(Document d, String field) {
        Date date = d.getDate(field);
        return date == null ? null : date.toInstant();
    }
}
