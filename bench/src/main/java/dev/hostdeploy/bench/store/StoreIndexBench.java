package dev.hostdeploy.bench.store;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.WriteModel;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import dev.hostdeploy.manager.store.IndexedH2Backend;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bson.Document;
import org.h2.mvstore.MVStore;

/**
 * The embedded store's unique-index layout, before (mongo-java-server's plain H2 backend: keys compared by
 * Java-serializing both) and after ({@link IndexedH2Backend}). Each side runs in its own JVM with the
 * Manager Dockerfile's flags, on a fresh H2 file committed after every message as the Manager's store
 * does, served by mongo-java-server and written by the real driver the way {@code Records.syncAll} does:
 * N record upserts in unordered bulk writes of 500 into an empty collection, the same N upserts again
 * (records that changed), then N point lookups by _id. Last, the "before" file is opened with the new
 * backend: the one-time rebuild of its index maps, and every record still found.
 */
public final class StoreIndexBench {
    static final List<String> JVM_FLAGS = List.of("-Xmx192m", "-XX:+UseSerialGC", "-Xss512k",
            "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=96m",
            "-Dio.netty.allocator.type=unpooled");
    static final int BATCH = 500;
    static final int HOSTS = 1_000;

    public static void main(String[] args) throws Exception {
        if (args.length >= 3) {
            child(args[0], Integer.parseInt(args[1]), Path.of(args[2]));
            return;
        }
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path work = Files.createTempDirectory("store-index");
        System.out.printf("%d records on %d hosts, bulk writes of %d, commit per message, JVM %s%n"
                        + "median of %d runs a side, alternated, each on a fresh file in its own JVM%n%n",
                n, HOSTS, BATCH, String.join(" ", JVM_FLAGS), runs);
        List<Map<String, Long>> befores = new ArrayList<>();
        List<Map<String, Long>> afters = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            befores.add(run("before", n, work.resolve("before-" + r)));
            afters.add(run("after", n, work.resolve("after-" + r)));
        }
        Map<String, Long> before = median(befores);
        Map<String, Long> after = median(afters);
        System.out.printf("%-36s %22s %22s%n", "", "before (plain H2)", "after (IndexedH2)");
        row("upserts, new records", n, before, after, "insert");
        row("upserts, changed records", n, before, after, "replace");
        row("lookups by _id", n, before, after, "lookup");
        System.out.printf("%-36s %19d kB %19d kB%n", "store file", before.get("fileKb"), after.get("fileKb"));
        Map<String, Long> migrate = run("migrate", n, work.resolve("before-0"));
        System.out.printf("%nfirst open of the \"before\" file with the new backend (index maps rebuilt): %d ms wall, "
                        + "%d ms CPU; next open %d ms; records found after: %d of %d%n",
                migrate.get("migrateWallMs"), migrate.get("migrateCpuMs"), migrate.get("reopenWallMs"),
                migrate.get("found"), n);
    }

    private static Map<String, Long> median(List<Map<String, Long>> runs) {
        Map<String, Long> median = new LinkedHashMap<>();
        for (String key : runs.get(0).keySet()) {
            List<Long> values = runs.stream().map(m -> m.get(key)).sorted().toList();
            median.put(key, values.get(values.size() / 2));
        }
        return median;
    }

    private static void row(String what, int n, Map<String, Long> before, Map<String, Long> after, String key) {
        System.out.printf("%-36s %s %s%n", what + " (" + n + ")", cell(n, before, key), cell(n, after, key));
    }

    private static String cell(int n, Map<String, Long> m, String key) {
        return String.format("%7d ms CPU %6.0f us/op", m.get(key + "CpuMs"), m.get(key + "CpuMs") * 1000.0 / n)
                + String.format(" (%d ms wall)", m.get(key + "WallMs"));
    }

    /** One side in a child JVM with the Manager's flags; it prints its figures as key=value lines. */
    private static Map<String, Long> run(String side, int n, Path dir) throws Exception {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), StoreIndexBench.class.getName(),
                side, Integer.toString(n), dir.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, Long> figures = new LinkedHashMap<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                String[] kv = line.split("=", 2);
                figures.put(kv[0], Long.parseLong(kv[1]));
            }
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException(side + " failed with exit code " + p.exitValue());
        }
        return figures;
    }

    private static void child(String side, int n, Path dir) throws Exception {
        Path file = dir.resolve("mongo.mv.db");
        if (side.equals("migrate")) {
            long[] t = start();
            H2Backend backend = new Committing.Indexed(open(file));
            print("migrate", t);
            backend.close();
            t = start();
            backend = new Committing.Indexed(open(file));
            print("reopen", t);
            MongoServer server = new MongoServer(backend);
            try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + server.bind().getPort())) {
                MongoCollection<Document> records = client.getDatabase("hostdeploy").getCollection("deployments");
                long found = 0;
                for (int i = 0; i < n; i++) {
                    found += records.find(Filters.eq("_id", id(i))).first() != null ? 1 : 0;
                }
                System.out.println("found=" + found);
            } finally {
                server.shutdownNow();
            }
            return;
        }
        Function<MVStore, H2Backend> backends = side.equals("before") ? Committing.Plain::new : Committing.Indexed::new;
        MongoServer server = new MongoServer(backends.apply(open(file)));
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + server.bind().getPort())) {
            MongoCollection<Document> records = client.getDatabase("hostdeploy").getCollection("deployments");
            records.createIndex(Indexes.ascending("hostId"));
            long[] t = start();
            syncAll(records, n, "running");
            print("insert", t);
            t = start();
            syncAll(records, n, "exited");
            print("replace", t);
            t = start();
            for (int i = 0; i < n; i++) {
                if (records.find(Filters.eq("_id", id(i))).first() == null) {
                    throw new IllegalStateException("record " + id(i) + " not found");
                }
            }
            print("lookup", t);
        } finally {
            server.shutdownNow();
        }
        System.out.println("fileKb=" + Files.size(file) / 1024);
    }

    /** Records.syncAll's writes: one ReplaceOneModel upsert per record, unordered bulk writes of BATCH. */
    private static void syncAll(MongoCollection<Document> records, int n, String state) {
        Date now = new Date();
        List<WriteModel<Document>> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String hostId = "host-" + (i % HOSTS);
            String name = "app-" + (i / HOSTS);
            writes.add(new ReplaceOneModel<>(Filters.eq("_id", id(i)),
                    new Document("_id", id(i)).append("hostId", hostId).append("name", name).append("state", state)
                            .append("owner", "deployment/" + name).append("updatedAt", now),
                    new ReplaceOptions().upsert(true)));
        }
        for (int from = 0; from < writes.size(); from += BATCH) {
            records.bulkWrite(writes.subList(from, Math.min(writes.size(), from + BATCH)),
                    new BulkWriteOptions().ordered(false));
        }
    }

    private static String id(int i) {
        return "host-" + (i % HOSTS) + "/app-" + (i / HOSTS);
    }

    private static MVStore open(Path file) {
        return new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    }

    private static long[] start() {
        return new long[] {System.nanoTime(), cpuNanos()};
    }

    private static void print(String what, long[] started) {
        System.out.println(what + "WallMs=" + (System.nanoTime() - started[0]) / 1_000_000);
        System.out.println(what + "CpuMs=" + (cpuNanos() - started[1]) / 1_000_000);
    }

    /** The whole JVM's CPU: driver, wire server and store, as in the Manager's process. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The Manager store's policy (EmbeddedServer.DurableBackend): the file committed after each message. */
    private static final class Committing {
        static final class Plain extends H2Backend {
            Plain(MVStore store) {
                super(store);
            }

            @Override
            public de.bwaldvogel.mongo.bson.Document handleMessage(MongoMessage message) {
                try {
                    return super.handleMessage(message);
                } finally {
                    if (getMvStore().hasUnsavedChanges()) {
                        getMvStore().commit();
                    }
                }
            }
        }

        static final class Indexed extends IndexedH2Backend {
            Indexed(MVStore store) {
                super(store);
            }

            @Override
            public de.bwaldvogel.mongo.bson.Document handleMessage(MongoMessage message) {
                try {
                    return super.handleMessage(message);
                } finally {
                    if (getMvStore().hasUnsavedChanges()) {
                        getMvStore().commit();
                    }
                }
            }
        }
    }
}
