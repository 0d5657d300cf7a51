package dev.hostdeploy.manager.sessions;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import dev.hostdeploy.manager.store.Database;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bson.Document;

/**
 * Browser sessions: the cookie holds 256 random bits, only their SHA-256 is stored (a database leak
 * yields no usable cookie). Each session has its own CSRF token and an expiry; deleting the document
 * ends the session everywhere at once.
 */
public final class Sessions {
    static final String COLLECTION = "sessions";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final MongoCollection<Document> sessions;

    /** A session just made: the cookie value is only ever in this object and the browser. */
    public record NewSession(String id, String csrfToken, Instant expiresAt) {
        @Override
        public String toString() {
            return "NewSession[expiresAt=" + expiresAt + "]";
        }
    }

    public record Session(String userId, String csrfToken, Instant expiresAt, String via) {
    }

    public Sessions(Database db) {
        this.sessions = db.collection(COLLECTION);
        sessions.createIndex(Indexes.ascending("userId"));
        try {
            // MongoDB expires sessions itself; the embedded store ignores this, so purge() and the expiry check
            // on every lookup are what end them there.
            sessions.createIndex(Indexes.ascending("expiresAt"), new IndexOptions().name("expiresAt_ttl")
                    .expireAfter(0L, TimeUnit.SECONDS));
        } catch (RuntimeException ignored) {
            sessions.createIndex(Indexes.ascending("expiresAt"));
        }
    }

    public NewSession create(String userId, java.time.Duration ttl, String via) {
        String id = random();
        String csrf = random();
        Instant expires = Instant.now().plus(ttl);
        sessions.insertOne(new Document("_id", hash(id)).append("userId", userId).append("csrf", csrf)
                .append("via", via).append("createdAt", new Date()).append("expiresAt", Date.from(expires)));
        return new NewSession(id, csrf, expires);
    }

    public Optional<Session> find(String id) {
        if (id == null || id.isEmpty() || id.length() > 100) {
            return Optional.empty();
        }
        Document d = sessions.find(Filters.eq("_id", hash(id))).first();
        if (d == null) {
            return Optional.empty();
        }
        Instant expires = d.getDate("expiresAt").toInstant();
        if (!expires.isAfter(Instant.now())) {
            return Optional.empty();
        }
        return Optional.of(new Session(d.getString("userId"), d.getString("csrf"), expires, d.getString("via")));
    }

    public boolean delete(String id) {
        return id != null && sessions.deleteOne(Filters.eq("_id", hash(id))).getDeletedCount() > 0;
    }

    /** Ends every session of a user (deleted, or left the organisation). */
    public long deleteForUser(String userId) {
        return sessions.deleteMany(Filters.eq("userId", userId)).getDeletedCount();
    }

    public long purge() {
        return sessions.deleteMany(Filters.lte("expiresAt", new Date())).getDeletedCount();
    }

    static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String hash(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
