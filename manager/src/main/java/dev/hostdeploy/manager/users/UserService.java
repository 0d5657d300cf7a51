package dev.hostdeploy.manager.users;

import dev.hostdeploy.manager.http.Caller;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Users and their tokens: the first admin, token checks for the API, and the admin's user management. */
public final class UserService {
    public static final String ADMIN_TOKEN_FILE = "admin-token";
    /** An operator-chosen bootstrap token shorter than this is refused before anything is created. */
    public static final int MIN_BOOTSTRAP_TOKEN = 32;
    private static final Logger LOG = LoggerFactory.getLogger(UserService.class);

    private final Users users;

    public UserService(Users users) {
        this.users = users;
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
        return users.delete(id);
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
