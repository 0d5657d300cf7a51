package dev.hostdeploy.manager.store;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.bson.Document;

/**
 * The Manager's MongoDB: an external one (replica sets included) when a URI is given, otherwise an
 * in-process mongo-java-server persisting to H2 under the data directory, so a laptop needs nothing.
 */
public final class Database implements AutoCloseable {
    public static final String EMBEDDED_FILE = "mongo.mv.db";

    private final MongoServer embedded;
    private final MongoClient client;
    private final MongoDatabase db;

    private Database(MongoServer embedded, MongoClient client, String name) {
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
        Files.createDirectories(dataDir);
        MongoServer server = new MongoServer(new H2Backend(dataDir.resolve(EMBEDDED_FILE).toString()));
        try {
            // Loopback only: the embedded server has no authentication of its own.
            InetSocketAddress address = server.bind();
            String uri = "mongodb://" + address.getHostString() + ":" + address.getPort();
            return new Database(server, MongoClients.create(settings(new ConnectionString(uri))), databaseName);
        } catch (RuntimeException e) {
            server.shutdownNow();
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
        return db.getCollection(name);
    }

    public MongoDatabase mongo() {
        return db;
    }

    public boolean embedded() {
        return embedded != null;
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
            // shutdownNow closes the H2 store, which writes the last changes to disk.
            embedded.shutdownNow();
        }
    }
}
