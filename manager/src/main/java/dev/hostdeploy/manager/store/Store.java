package dev.hostdeploy.manager.store;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/** Opens the database, migrates it, creates indexes and hands out the repositories. */
public final class Store implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Database db;
    private final Users users;
    private final Hosts hosts;
    private final AuditLog audit;
    private final Records records;

    private Store(Database db) {
        this.db = db;
        this.users = new Users(db);
        this.hosts = new Hosts(db);
        this.audit = new AuditLog(db);
        this.records = new Records(db);
    }

    public static Store open(String mongoUri, String databaseName, Path dataDir) throws IOException {
        return open(mongoUri, databaseName, dataDir, Migrations.ALL);
    }

    public static Store open(String mongoUri, String databaseName, Path dataDir, List<Migrations.Migration> migrations)
            throws IOException {
        Database db = Database.open(mongoUri, databaseName, dataDir);
        try {
            Migrations.migrate(db, migrations);
            IndexSetup.ensure(db);
            Store store = new Store(db);
            store.records.load();
            return store;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** A random 128-bit id, hex. */
    static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    static boolean duplicateKey(com.mongodb.MongoWriteException e) {
        return e.getError().getCategory() == com.mongodb.ErrorCategory.DUPLICATE_KEY || e.getCode() == 11000;
    }

    public Database database() {
        return db;
    }

    public Users users() {
        return users;
    }

    public Hosts hosts() {
        return hosts;
    }

    public AuditLog audit() {
        return audit;
    }

    public Records records() {
        return records;
    }

    @Override
    public void close() {
        db.close();
    }
}
