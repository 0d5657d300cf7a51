package dev.hostdeploy.manager;

import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.Snapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code db export} / {@code db import}: backups of the embedded store, which mongodump cannot reach
 * (it listens only on a unix socket private to the Manager), and the way from it to a MongoDB server.
 * On the embedded store both take the data directory's lock, so they refuse to run beside a Manager
 * and an export is a consistent snapshot.
 */
@Command(name = "db", mixinStandardHelpOptions = true,
        description = "Export or import the Manager's database as JSON lines (one document a line).",
        subcommands = {DbCommand.Export.class, DbCommand.Import.class})
final class DbCommand {

    /** Where the database is: {@link StoreOptions}, as {@code serve} reads it. */
    static class Target extends StoreOptions {
        boolean external() {
            return mongoUri != null && !mongoUri.isBlank();
        }

        Database open(boolean mustExist) throws IOException {
            if (external()) {
                return Database.open(mongoUri, database, null);
            }
            if (dataDir == null) {
                throw new IllegalArgumentException("--data-dir (or HOSTDEPLOY_DATA_DIR) or --mongo-uri is required");
            }
            if (mustExist && !Files.isRegularFile(dataDir.resolve(Database.EMBEDDED_FILE))) {
                throw new IllegalArgumentException("no embedded database in " + dataDir + " (no "
                        + Database.EMBEDDED_FILE + ")");
            }
            if (!Files.exists(dataDir)) {
                Files.createDirectories(dataDir,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            return Database.open(null, database, dataDir);
        }

        String describe() {
            return external() ? "MongoDB database " + database : "embedded database in " + dataDir;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write every document to FILE (mode 0600: it holds token hashes). On the embedded "
                    + "database the Manager must be stopped; on MongoDB stop it too for a consistent copy.")
    static final class Export extends Target implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "FILE", required = true, description = "File to write")
        Path out;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Path absolute = out.toAbsolutePath();
            Path tmp = Files.createTempFile(absolute.getParent(), ".export-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (Database db = open(true); Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                Map<String, Long> counts = Snapshot.export(db, w);
                w.close();
                // Renamed only when complete: a failed export never leaves a truncated backup under the name.
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                spec.commandLine().getOut().println("exported " + describe() + " to " + absolute + ": " + counts);
                return 0;
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Insert every document from FILE into an empty database (refused when it holds any).")
    static final class Import extends Target implements Callable<Integer> {
        @Option(names = "--in", paramLabel = "FILE", required = true, description = "File written by db export")
        Path in;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            if (!Files.isRegularFile(in)) {
                throw new IllegalArgumentException("--in: no such file " + in);
            }
            try (BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8); Database db = open(false)) {
                Map<String, Long> counts = Snapshot.importInto(db, r);
                spec.commandLine().getOut().println("imported " + in + " into " + describe() + ": " + counts);
                return 0;
            }
        }
    }
}
