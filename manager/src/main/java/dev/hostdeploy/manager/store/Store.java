package dev.hostdeploy.manager.store;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The opened database, migrated to this version's schema, with the audit log. Each feature's repository
 * is built on {@link #database()} and creates its own indexes.
 */
public final class Store implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Database db;
    private final AuditLog audit;

    private Store(Database db) {
        this.db = db;
        this.audit = new AuditLog(db);
    }

    public static Store open(String mongoUri, String databaseName, Path dataDir) throws IOException {
        return open(mongoUri, databaseName, dataDir, Migrations.ALL);
    }

    public static Store open(String mongoUri, String databaseName, Path dataDir, List<Migrations.Migration> migrations)
            throws IOException {
        Database db = Database.open(mongoUri, databaseName, dataDir);
        try {
            Migrations.migrate(db, migrations);
            return new Store(db);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** A random 128-bit id, hex. */
    public static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public static boolean duplicateKey(MongoWriteException e) {
        return e.getError().getCategory() == ErrorCategory.DUPLICATE_KEY || e.getCode() == 11000;
    }

    public Database database() {
        return db;
    }

    public AuditLog audit() {
        return audit;
    }

    @Override
    public void close() {
        db.close();
    }
}
