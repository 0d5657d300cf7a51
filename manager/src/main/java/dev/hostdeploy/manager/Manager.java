package dev.hostdeploy.manager;

import dev.hostdeploy.manager.http.HttpApi;
import dev.hostdeploy.manager.orchestration.AgentRegistry;
import dev.hostdeploy.manager.orchestration.StatsService;
import dev.hostdeploy.manager.store.Hosts;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.store.Users;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.cli.Cli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running Manager: store, agent connections, stats and the REST API. */
public final class Manager implements AutoCloseable {
    public static final String ADMIN_TOKEN_FILE = "admin-token";
    private static final Logger LOG = LoggerFactory.getLogger(Manager.class);

    private final Identity identity;
    private final Store store;
    private final AgentRegistry agents;
    private final HttpApi http;

    private Manager(Identity identity, Store store, AgentRegistry agents, HttpApi http) {
        this.identity = identity;
        this.store = store;
        this.agents = agents;
        this.http = http;
    }

    public static Manager start(ManagerConfig config) throws IOException {
        Identity identity = Identity.loadOrCreate(config.identityDir, "hostdeploy-manager");
        if (!Files.exists(config.dataDir)) {
            // The data directory holds the admin token and, embedded, the database: private to the owner.
            Files.createDirectories(config.dataDir,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Store store = Store.open(config.mongoUri, config.database, config.dataDir);
        AgentRegistry agents = null;
        try {
            bootstrap(store.users(), config.dataDir, config.bootstrapToken);
            agents = new AgentRegistry(identity, config.agentTimeout, config.pingInterval, config.agentBackoff, store.audit());
            for (Hosts.Host host : store.hosts().list()) {
                agents.add(host);
            }
            StatsService stats = new StatsService(agents, store.records(), config.statsTtl, config.statsCallTimeout);
            HttpApi http = new HttpApi(store, agents, stats, config.limiter, config.metricsToken, Cli.version());
            http.start(config.listen);
            LOG.info("Manager {} listening on {}:{}, identity {}", Cli.version(), config.listen.getHostString(),
                    http.port(), identity.fingerprint());
            return new Manager(identity, store, agents, http);
        } catch (RuntimeException | IOException e) {
            if (agents != null) {
                agents.close();
            }
            store.close();
            throw e;
        }
    }

    /**
     * On an empty database: creates the admin user and its token, either the operator's
     * HOSTDEPLOY_BOOTSTRAP_TOKEN or a fresh one written to {data-dir}/admin-token with mode 0600.
     */
    static void bootstrap(Users users, Path dataDir, String bootstrapToken) throws IOException {
        if (users.count() > 0) {
            return;
        }
        if (bootstrapToken != null && !bootstrapToken.isBlank()) {
            if (bootstrapToken.length() < 32) {
                throw new IllegalArgumentException("HOSTDEPLOY_BOOTSTRAP_TOKEN must be at least 32 characters");
            }
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

    public int port() {
        return http.port();
    }

    public Identity identity() {
        return identity;
    }

    public HttpApi http() {
        return http;
    }

    public Store store() {
        return store;
    }

    public AgentRegistry agents() {
        return agents;
    }

    @Override
    public void close() {
        http.close();
        agents.close();
        store.close();
    }
}
