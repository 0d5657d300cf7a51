package dev.hostdeploy.manager.users;

import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.store.AuditLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Users and their tokens: the first admin, token checks for the API, and the admin's user management. */
public final class UserService {
    public static final String ADMIN_TOKEN_FILE = "admin-token";
    /** An operator-chosen bootstrap token shorter than this is refused before anything is created. */
    public static final int MIN_BOOTSTRAP_TOKEN = 32;
    private static final Logger LOG = LoggerFactory.getLogger(UserService.class);

    /** The audit action of the offboarding that follows a deletion or a departure. */
    public static final String OFFBOARD_ACTION = "user.offboard";

    private final Users users;
    private final AuditLog audit;
    private final List<NamedOffboarding> offboarding = new CopyOnWriteArrayList<>();

    private record NamedOffboarding(String name, Offboarding step) {
    }

    /**
     * What removing a user's access did: the tokens revoked, the offboarding steps that ran and those
     * that failed (by name, with their error).
     */
    public record Offboarded(Users.User user, long tokensRevoked, List<String> done, List<String> failed) {
        public Offboarded {
            done = List.copyOf(done);
            failed = List.copyOf(failed);
        }

        /** The audit entry's result, e.g. {@code ok: 2 tokens revoked; offboarded by containers}. */
        String summary() {
            StringBuilder s = new StringBuilder(failed.isEmpty() ? "ok" : "partial");
            s.append(": ").append(tokensRevoked).append(tokensRevoked == 1 ? " token" : " tokens").append(" revoked");
            if (!done.isEmpty()) {
                s.append("; offboarded by ").append(String.join(", ", done));
            }
            if (!failed.isEmpty()) {
                s.append("; failed: ").append(String.join(", ", failed));
            }
            return s.toString();
        }
    }

    public UserService(Users users) {
        this(users, null);
    }

    /** @param audit where offboarding is recorded (null: only logged) */
    public UserService(Users users, AuditLog audit) {
        this.users = users;
        this.audit = audit;
    }

    /**
     * Registers work to do for every user that is deleted or leaves (see {@link Offboarding}), after
     * their tokens are revoked, in the order registered. {@code name} names the step in the log and
     * the audit entry, e.g. {@code containers}.
     */
    public void onMemberRemoved(String name, Offboarding step) {
        offboarding.add(new NamedOffboarding(name, step));
    }

    /**
     * On an empty database: creates the admin user and its token, either the operator's
     * HOSTDEPLOY_BOOTSTRAP_TOKEN or a fresh one written to {data-dir}/admin-token with mode 0600.
     */
    public void bootstrap(Path dataDir, String bootstrapToken) throws IOException {
        if (users.count() > 0) {
            return;
        }
        if (bootstrapToken != null && !bootstrapToken.isBlank()) {
            checkBootstrapToken(bootstrapToken);
            Users.User admin = users.create(new Users.NewUser("admin", Users.ADMIN));
            users.insertToken(admin.id(), "bootstrap", bootstrapToken);
            LOG.info("created user admin with the token from HOSTDEPLOY_BOOTSTRAP_TOKEN");
            return;
        }
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(ADMIN_TOKEN_FILE);
        String token = Users.newToken();
        Files.deleteIfExists(file);
        // Created with mode 0600 so the token is never readable by others, not even briefly.
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Users.User admin = users.create(new Users.NewUser("admin", Users.ADMIN));
        users.insertToken(admin.id(), "bootstrap", token);
        LOG.info("created user admin; its token is in {}", file);
    }

    public static void checkBootstrapToken(String token) {
        if (token != null && !token.isBlank() && token.length() < MIN_BOOTSTRAP_TOKEN) {
            throw new IllegalArgumentException("HOSTDEPLOY_BOOTSTRAP_TOKEN must be at least "
                    + MIN_BOOTSTRAP_TOKEN + " characters");
        }
    }

    public Optional<Caller> authenticate(String token) {
        return users.authenticate(token).map(u -> new Caller(u.id(), u.name(), u.role()));
    }

    /** The caller a user id stands for, while the user exists. */
    public Optional<Caller> caller(String userId) {
        return users.get(userId).map(u -> new Caller(u.id(), u.name(), u.role()));
    }

    public Users users() {
        return users;
    }

    public List<Users.User> list() {
        return users.list();
    }

    public Users.User require(String id) {
        return users.require(id);
    }

    public Users.User create(Users.NewUser request) {
        return users.create(request);
    }

    public Users.User delete(String id) {
        return delete(id, "system", null).user();
    }

    /**
     * Deletes a user: its tokens are revoked and the record removed, then the offboarding steps run.
     * One {@code user.offboard} audit entry records the counts and any step that failed.
     *
     * @param address the requester's address, for the audit entry (null when none)
     */
    public Offboarded delete(String id, String actor, String address) {
        Users.Removed removed = users.remove(id);
        return offboard(removed.user(), removed.tokens(), "deleted", actor, address);
    }

    /**
     * A user who lost the right to be here without being deleted (e.g. no longer a member of the GitHub
     * organisation it signed in through): its tokens are revoked and the offboarding steps run; the
     * record stays, so an admin sees who it was and what it owned.
     */
    public Offboarded memberLeft(String id, String reason, String actor) {
        Users.User user = users.require(id);
        long revoked = users.revokeAllTokens(id);
        return offboard(user, revoked, reason, actor, null);
    }

    private Offboarded offboard(Users.User user, long tokensRevoked, String reason, String actor, String address) {
        List<String> done = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (NamedOffboarding o : offboarding) {
            try {
                o.step().offboard(user.id());
                done.add(o.name());
            } catch (Exception e) {
                // The user is gone or locked out either way: a failed step is reported, never rolled back.
                LOG.error("offboarding step {} failed for user {} ({}): {}", o.name(), user.name(), user.id(), e.toString());
                failed.add(o.name() + " (" + e.getMessage() + ")");
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        Offboarded result = new Offboarded(user, tokensRevoked, done, failed);
        LOG.info("user {} ({}) {}: {}", user.name(), user.id(), reason, result.summary());
        if (audit != null) {
            audit.record(actor, OFFBOARD_ACTION, "user/" + user.name() + " (" + reason + ")", result.summary(), address);
        }
        return result;
    }

    /**
     * Creates a user and its first token together, then runs {@code andThen} (e.g. marking an invitation
     * used); if any step fails, nothing of it remains.
     */
    public Users.Created createWithToken(Users.NewUser request, String tokenName, java.util.function.Consumer<Users.User> andThen) {
        return users.createWithToken(request, tokenName, andThen);
    }

    public List<Users.TokenInfo> tokens(String userId) {
        return users.tokens(userId);
    }

    public Users.NewToken createToken(String userId, String name) {
        return users.createToken(userId, name);
    }

    public void revokeToken(String id) {
        users.revokeToken(id);
    }

    /** The user's SSH public keys, given to their new containers unless a request names others. */
    public List<String> keys(String userId) {
        return users.keys(userId);
    }

    public Users.SshKeyList setKeys(String userId, Users.SshKeyList keys) {
        users.setKeys(userId, keys);
        return new Users.SshKeyList(users.keys(userId));
    }

    public Users.Quota quota(String userId) {
        return users.quota(userId);
    }

    /** An admin's per-member override of the container quota. */
    public Users.UserQuota patch(String userId, Users.UserPatch patch) {
        Users.User u = users.require(userId);
        users.setQuota(u.id(), patch.quota());
        return new Users.UserQuota(u.id(), u.name(), users.quota(u.id()));
    }

    /** A user by id or, failing that, by name. */
    public Optional<Users.User> find(String idOrName) {
        Optional<Users.User> byId = users.get(idOrName);
        return byId.isPresent() ? byId : users.list().stream().filter(u -> u.name().equals(idOrName)).findFirst();
    }
}
