package dev.hostdeploy.manager.store;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.WriteConcern;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.Document;

/**
 * The Manager's MongoDB: an external one (replica sets included) when a URI is given, otherwise an
 * in-process mongo-java-server persisting to H2 under the data directory, so a laptop needs nothing.
 * The embedded one is reachable only through a unix socket in a private directory ({@link EmbeddedServer}).
 */
public final class Database implements AutoCloseable {
    public static final String EMBEDDED_FILE = "mongo.mv.db";
    /**
     * Collections whose writes decide who may do what (users and roles, tokens and their revocation,
     * hosts and the agent keys they trust, invitations and their one use): on MongoDB these wait for the journal on a majority, so an
     * acknowledged revocation is not undone by a primary crashing or failing over.
     */
    public static final Set<String> SECURITY_COLLECTIONS = Set.of("users", "tokens", "hosts", "invites");
    public static final WriteConcern SECURITY_WRITE_CONCERN = WriteConcern.MAJORITY.withJournal(true);

    private final EmbeddedServer embedded;
    private final MongoClient client;
    private final MongoDatabase db;

    private Database(EmbeddedServer embedded, MongoClient client, String name) {
        this.embedded = embedded;
        this.client = client;
        this.db = client.getDatabase(name);
    }

    public static Database open(String mongoUri, String databaseName, Path dataDir) throws IOException {
        if (mongoUri != null && !mongoUri.isBlank()) {
            ConnectionString uri = new ConnectionString(mongoUri);
            String name = uri.getDatabase() != null ? uri.getDatabase() : databaseName;
            return new Database(null, MongoClients.create(settings(uri)), name);
        }
        EmbeddedServer server = EmbeddedServer.start(dataDir);
        try {
            return new Database(server, MongoClients.create(settings(new ConnectionString(server.connectionString()))),
                    databaseName);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private static MongoClientSettings settings(ConnectionString uri) {
        return MongoClientSettings.builder()
                .applyConnectionString(uri)
                .applyToClusterSettings(c -> c.serverSelectionTimeout(5, TimeUnit.SECONDS))
                .applyToSocketSettings(s -> s.connectTimeout(5, TimeUnit.SECONDS))
                .build();
    }

    public MongoCollection<Document> collection(String name) {
        MongoCollection<Document> c = db.getCollection(name);
        // The embedded store commits every write before answering whatever the write concern says.
        return embedded == null && SECURITY_COLLECTIONS.contains(name) ? c.withWriteConcern(SECURITY_WRITE_CONCERN) : c;
    }

    public MongoDatabase mongo() {
        return db;
    }

    public boolean embedded() {
        return embedded != null;
    }

    /** The embedded store's unix socket, or null on an external MongoDB. */
    public Path embeddedSocket() {
        return embedded == null ? null : embedded.socket();
    }

    /** True when the database answers a ping. */
    public boolean ping() {
        try {
            db.runCommand(new Document("ping", 1));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        client.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
