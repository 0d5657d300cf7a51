package dev.hostdeploy.manager.users;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.users.Users.NewToken;
import dev.hostdeploy.manager.users.Users.TokenInfo;
import dev.hostdeploy.manager.users.Users.User;
import dev.hostdeploy.protocol.ProtocolException;
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
import java.util.function.Function;
import org.bson.Document;

/**
 * The API tokens' collection and the authentication cache, kept apart from the users' documents because
 * this is the only part on every request's path. A token is 256 random bits, shown once; only its
 * SHA-256 is stored, so a database leak does not leak usable tokens. Lookups are cached briefly and the
 * cache is dropped on every change to users or tokens ({@link #changed}), so a revoked token stops
 * working at once. {@link Users} is the public face; callers go through it.
 */
final class Tokens {
    static final String TOKENS = "tokens";
    static final String TOKEN_PREFIX = "hd_";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long CACHE_NANOS = 5_000_000_000L;

    private final MongoCollection<Document> tokens;
    /** A token's user by id, read from the users' collection on a cache miss. */
    private final Function<String, Optional<User>> userById;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
    /**
     * Bumped on every change to users or tokens: a lookup that read the store before a revocation
     * must not put its stale answer into the cache after the revocation cleared it.
     */
    private final AtomicLong generation = new AtomicLong();

    private record Cached(User user, long at) {
    }

    Tokens(Database db, Function<String, Optional<User>> userById) {
        this.tokens = db.collection(TOKENS);
        this.userById = userById;
        tokens.createIndex(Indexes.ascending("hash"), new IndexOptions().unique(true));
        tokens.createIndex(Indexes.ascending("userId"));
    }

    /** Stores a token; only its hash is kept. */
    NewToken insert(String userId, String name, String token) {
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

    List<TokenInfo> of(String userId) {
        List<TokenInfo> out = new ArrayList<>();
        for (Document d : tokens.find(Filters.eq("userId", userId)).sort(Sorts.ascending("createdAt"))) {
            out.add(new TokenInfo(d.getString("_id"), d.getString("userId"), d.getString("name"), d.getDate("createdAt").toInstant()));
        }
        return out;
    }

    void revoke(String id) {
        if (tokens.deleteOne(Filters.eq("_id", id)).getDeletedCount() == 0) {
            throw ProtocolException.notFound("no token " + id);
        }
        changed();
    }

    /** Revokes every token of a user; returns how many there were. */
    long revokeAll(String userId) {
        long revoked = tokens.deleteMany(Filters.eq("userId", userId)).getDeletedCount();
        changed();
        return revoked;
    }

    /** The user a presented token belongs to, if the token is valid. */
    Optional<User> authenticate(String token) {
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
        User user = t == null ? null : userById.apply(t.getString("userId")).orElse(null);
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

    /** Drops cached lookups; called on every change to users or tokens. */
    void changed() {
        generation.incrementAndGet();
        cache.clear();
    }

    /** Drops cached lookups without invalidating those in flight (a change no cached answer depends on). */
    void clearCache() {
        cache.clear();
    }

    static String newToken() {
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
}
