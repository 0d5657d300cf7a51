package dev.hostdeploy.manager;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the Manager's database is: the same options and environment variables for every subcommand. */
class StoreOptions {
    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:HOSTDEPLOY_DATA_DIR}",
            description = "Data directory: admin-token, secrets key, and the embedded database when no --mongo-uri "
                    + "(env HOSTDEPLOY_DATA_DIR)")
    Path dataDir;

    @Option(names = "--mongo-uri", paramLabel = "URI", defaultValue = "${env:HOSTDEPLOY_MONGO_URI}",
            description = "MongoDB connection string (replica sets included); without it the embedded "
                    + "database under --data-dir is used (env HOSTDEPLOY_MONGO_URI)")
    String mongoUri;

    @Option(names = "--mongo-database", paramLabel = "NAME", defaultValue = "${env:HOSTDEPLOY_MONGO_DATABASE:-hostdeploy}",
            description = "Database name when the URI names none (env HOSTDEPLOY_MONGO_DATABASE, default ${DEFAULT-VALUE})")
    String database;
}
