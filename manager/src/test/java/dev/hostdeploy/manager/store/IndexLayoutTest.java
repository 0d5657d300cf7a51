package dev.hostdeploy.manager.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bson.Document;
import org.bson.BsonBinarySubType;
import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store's unique indexes in their own key type: a store file of the plain mongo-java-server
 * H2 backend (what older Managers wrote) is rebuilt on its first open and keeps every document and every
 * uniqueness, through the Manager's own Database and the real driver.
 */
@Timeout(120)
class IndexLayoutTest {
    @TempDir
    Path data;

    @Test
    void aStoreWrittenByThePlainBackendIsRebuiltOnceAndKeepsItsDocumentsAndUniqueness() throws Exception {
        List<Object> ids = writeWithPlainBackend(db -> {
            List<Object> written = new ArrayList<>();
            MongoCollection<Document> users = db.getCollection("users");
            users.createIndex(Indexes.ascending("name"), new IndexOptions().unique(true));
            for (int i = 0; i < 300; i++) {
                users.insertOne(new Document("_id", "u" + i).append("name", "user" + i));
                written.add("users/u" + i);
            }
            for (int i = 0; i < 500; i++) {
                db.getCollection("records").insertOne(new Document("_id", "host" + (i % 7) + "/svc" + i).append("state", "up"));
                written.add("records/host" + (i % 7) + "/svc" + i);
            }
            for (int i = 0; i < 200; i++) {
                ObjectId id = new ObjectId();
                db.getCollection("audit").insertOne(new Document("_id", id).append("action", "a" + i));
                written.add(new Document("c", "audit").append("id", id));
            }
            return written;
        });
        assertThat(mapNames()).anyMatch(n -> n.contains(IndexLayout.PLAIN_INFIX));

        try (Database db = Database.open(null, "hd", data)) {
            for (Object id : ids) {
                assertThat(find(db, id)).as("%s after the rebuild", id).isNotNull();
            }
            assertThatThrownBy(() -> db.collection("users").insertOne(new Document("_id", "u7").append("name", "fresh")))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
            assertThatThrownBy(() -> db.collection("users").insertOne(new Document("_id", "new").append("name", "user7")))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
            db.collection("users").insertOne(new Document("_id", "u300").append("name", "user300"));
            db.collection("audit").insertOne(new Document("_id", "late"));
            assertThat(db.collection("users").find(Filters.eq("name", "user300")).first()).isNotNull();
            assertThat(db.collection("users").countDocuments()).isEqualTo(301);
        }

        assertThat(mapNames()).contains("hd.users" + IndexLayout.INFIX + "_id_", "hd.users" + IndexLayout.INFIX + "name_1",
                        "hd.records" + IndexLayout.INFIX + "_id_", "hd.audit" + IndexLayout.INFIX + "_id_");
        MVStore store = MVStore.open(data.resolve(Database.EMBEDDED_FILE).toString());
        try {
            for (String plain : store.getMapNames().stream().filter(n -> n.contains(IndexLayout.PLAIN_INFIX)).toList()) {
                assertThat(store.openMap(plain).keySet()).as(plain)
                        .containsExactly(new IndexLayout.Moved(plain.replace(IndexLayout.PLAIN_INFIX, IndexLayout.INFIX)));
            }
            assertThat(IndexLayout.migrate(store)).as("maps rebuilt on the second open").isZero();
        } finally {
            store.close();
        }
        try (Database db = Database.open(null, "hd", data)) {
            assertThat(db.collection("users").find(Filters.eq("_id", "u300")).first()).isNotNull();
            assertThat(find(db, ids.get(ids.size() - 1))).isNotNull();
            assertThatThrownBy(() -> db.collection("users").insertOne(new Document("_id", "x").append("name", "user300")))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
        }
    }

    @Test
    void aStoreKilledWhileItsIndexesAreRebuiltIsRebuiltByTheNextStart() throws Exception {
        List<String> collections = List.of("a", "b", "c", "d", "e");
        writeWithPlainBackend(db -> {
            db.getCollection("a").createIndex(Indexes.ascending("n"), new IndexOptions().unique(true));
            for (String c : collections) {
                List<Document> docs = new ArrayList<>();
                for (int i = 0; i < 3_000; i++) {
                    docs.add(new Document("_id", c + i).append("n", i));
                }
                db.getCollection(c).insertMany(docs);
            }
            return List.of();
        });
        // Each start is killed (SIGKILL) as soon as it has rebuilt one map, while it rebuilds the next.
        for (int kill = 0; kill < 2; kill++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), OpenStore.class.getName(), data.toString())
                    .redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null && !line.contains("rebuilt index map")) {
                    assertThat(line).doesNotContain("opened");
                }
                assertThat(line).as("a rebuild logged before the store opened").isNotNull();
                p.destroyForcibly();
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(mapNames()).as("maps left to rebuild").anyMatch(n -> n.contains(IndexLayout.PLAIN_INFIX)
                && !mapNames().contains(n.replace(IndexLayout.PLAIN_INFIX, IndexLayout.INFIX)));

        try (Database db = Database.open(null, "hd", data)) {
            for (String c : collections) {
                for (int i = 0; i < 3_000; i += 7) {
                    assertThat(db.collection(c).find(Filters.eq("_id", c + i)).first()).as(c + i).isNotNull();
                }
                assertThat(db.collection(c).countDocuments()).isEqualTo(3_000);
                assertThatThrownBy(() -> db.collection(c).insertOne(new Document("_id", c + "2999")))
                        .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
            }
            assertThatThrownBy(() -> db.collection("a").insertOne(new Document("_id", "new").append("n", 5)))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
        }
        MVStore store = MVStore.open(data.resolve(Database.EMBEDDED_FILE).toString());
        try {
            assertThat(IndexLayout.migrate(store)).isZero();
        } finally {
            store.close();
        }
    }

    /** The child the test above kills: opens the store as the Manager does. */
    static final class OpenStore {
        public static void main(String[] args) throws Exception {
            Database.open(null, "hd", Path.of(args[0]));
            System.out.println("opened");
            Thread.sleep(60_000);
        }
    }

    @Test
    void droppedIndexesCollectionsAndDatabasesStayDroppedAfterARestart() throws Exception {
        writeWithPlainBackend(db -> {
            db.getCollection("users").createIndex(Indexes.ascending("name"), new IndexOptions().unique(true));
            db.getCollection("users").insertOne(new Document("_id", "u1").append("name", "a"));
            db.getCollection("gone").insertOne(new Document("_id", "g1"));
            return List.of();
        });
        try (Database db = Database.open(null, "hd", data)) {
            db.collection("users").dropIndex("name_1");
            db.collection("gone").drop();
            db.collection("fresh").insertOne(new Document("_id", "f1"));
            db.collection("fresh").drop();
        }
        try (Database db = Database.open(null, "hd", data)) {
            db.collection("users").insertOne(new Document("_id", "u2").append("name", "a"));
            assertThat(db.collection("gone").countDocuments()).isZero();
            assertThat(db.collection("fresh").countDocuments()).isZero();
            db.collection("gone").insertOne(new Document("_id", "g1"));
            db.mongo().drop();
        }
        try (Database db = Database.open(null, "hd", data)) {
            assertThat(db.mongo().listCollectionNames().into(new ArrayList<>())).isEmpty();
            db.collection("users").insertOne(new Document("_id", "u1"));
        }
        assertThat(mapNames()).noneMatch(n -> n.contains("hd.gone") || n.contains("hd.fresh") || n.contains("name_1"));
    }

    @Test
    void aRebuildCutShortIsDoneAgainFromTheOldMapOnTheNextStart() throws Exception {
        writeWithPlainBackend(db -> {
            for (int i = 0; i < 100; i++) {
                db.getCollection("users").insertOne(new Document("_id", "u" + i));
            }
            return List.of();
        });
        // What a start killed mid-rebuild leaves: the old map, and a new one holding a key of no document.
        MVStore store = MVStore.open(data.resolve(Database.EMBEDDED_FILE).toString());
        IndexLayout.open(store, "hd.users" + IndexLayout.INFIX + "_id_").put(new KeyValue("ghost"), "ghost");
        store.commit();
        store.close();

        try (Database db = Database.open(null, "hd", data)) {
            db.collection("users").insertOne(new Document("_id", "ghost"));
            assertThat(db.collection("users").countDocuments()).isEqualTo(101);
            assertThat(db.collection("users").find(Filters.eq("_id", "u42")).first()).isNotNull();
        }

        // Killed after marking the old map, before emptying it: done, nothing is rebuilt again.
        store = MVStore.open(data.resolve(Database.EMBEDDED_FILE).toString());
        store.openMap("hd.users" + IndexLayout.PLAIN_INFIX + "_id_").put(new KeyValue("u1"), "u1");
        store.commit();
        assertThat(IndexLayout.migrate(store)).isZero();
        store.close();
        try (Database db = Database.open(null, "hd", data)) {
            assertThat(db.collection("users").countDocuments(Filters.eq("_id", "ghost"))).isEqualTo(1);
            assertThat(db.collection("users").find(Filters.eq("_id", "u42")).first()).isNotNull();
        }
    }

    @Test
    void anOlderManagerRefusesToOpenARebuiltStoreInsteadOfServingEmptyIndexes() throws Exception {
        writeWithPlainBackend(db -> {
            db.getCollection("users").insertOne(new Document("_id", "u1"));
            return List.of();
        });
        try (Database db = Database.open(null, "hd", data)) {
            assertThat(db.collection("users").find(Filters.eq("_id", "u1")).first()).isNotNull();
        }
        assertThatThrownBy(() -> openWithAnOlderManager(data))
                .hasRootCauseInstanceOf(ClassNotFoundException.class)
                .rootCause().hasMessageContaining(IndexLayout.Moved.class.getName());
    }

    @Test
    void anOlderManagerRefusesToOpenAStoreThisOneCreated() throws Exception {
        try (Database db = Database.open(null, "hd", data)) {
            db.collection("users").insertOne(new Document("_id", "u1"));
        }
        assertThatThrownBy(() -> openWithAnOlderManager(data)).hasStackTraceContaining("Unsupported type");
    }

    @Test
    void idsOfMixedTypesAreAllFoundAndEqualNumbersAreOneKey() throws Exception {
        List<Object> ids = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            ids.add("s" + i);
            ids.add((long) i * 1_000_003L + 5_000_000_000L);
            ids.add(i * 7 + 1_000_000);
            ids.add(i + 0.5);
            ids.add(new ObjectId());
            ids.add(new Document("host", "h" + i).append("n", i));
            ids.add(new Date(1_700_000_000_000L + i));
            ids.add(new Binary(new byte[] {(byte) i, (byte) (i >> 8), 7}));
            ids.add(new Document("tags", List.of("a" + i, i)).append("at", new Document("x", (double) i)));
        }
        ids.add(Long.MAX_VALUE - 1); // not representable as a double: stays a long
        ids.add(true);
        try (Database db = Database.open(null, "hd", data)) {
            MongoCollection<Document> c = db.collection("mixed");
            for (int from = 0; from < ids.size(); from += 500) {
                c.insertMany(ids.subList(from, Math.min(ids.size(), from + 500)).stream()
                        .map(id -> new Document("_id", id)).collect(Collectors.toList()));
            }
            c.insertOne(new Document("_id", 3));
            // Mongo compares numbers by value: 3L and 3.0 are the int 3's _id.
            assertThatThrownBy(() -> c.insertOne(new Document("_id", 3.0)))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
            assertThatThrownBy(() -> c.insertOne(new Document("_id", 3L)))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
            assertThat(c.find(Filters.eq("_id", 3.0)).first()).isEqualTo(new Document("_id", 3));
            // Field order makes a different document.
            c.insertOne(new Document("_id", new Document("n", 0).append("host", "h0")));
        }
        // Reopened, so the keys are read back from the file.
        try (Database db = Database.open(null, "hd", data)) {
            MongoCollection<Document> c = db.collection("mixed");
            for (Object id : ids) {
                assertThat(c.find(Filters.eq("_id", id)).first()).as("_id %s", id).isNotNull();
            }
            assertThat(c.countDocuments()).isEqualTo(ids.size() + 2);
            assertThatThrownBy(() -> c.insertOne(new Document("_id", ids.get(4))))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
            assertThatThrownBy(() -> c.insertOne(new Document("_id", new Document("host", "h9").append("n", 9L))))
                    .isInstanceOf(MongoWriteException.class).hasMessageContaining("E11000");
        }
    }

    /** mongo-java-server's plain backend in a class loader without the Manager's classes, as an older Manager has it. */
    private static void openWithAnOlderManager(Path dataDir) throws Exception {
        URL[] jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> p.matches(".*/(h2|mongo-java-server[a-z0-9-]*|slf4j-api|netty-[a-z0-9-]+)-[0-9][^/]*\\.jar"))
                .map(p -> {
                    try {
                        return Path.of(p).toUri().toURL();
                    } catch (MalformedURLException e) {
                        throw new IllegalStateException(e);
                    }
                }).toArray(URL[]::new);
        try (URLClassLoader older = new URLClassLoader(jars, ClassLoader.getPlatformClassLoader())) {
            Class<?> backend = older.loadClass(H2Backend.class.getName());
            Class<?> mvStore = older.loadClass(MVStore.class.getName());
            assertThat(backend.getClassLoader()).isSameAs(older);
            Object store = mvStore.getMethod("open", String.class).invoke(null, dataDir.resolve(Database.EMBEDDED_FILE).toString());
            try {
                backend.getConstructor(mvStore).newInstance(store);
            } finally {
                mvStore.getMethod("close").invoke(store);
            }
        }
    }

    @Test
    void documentsOfEveryTypeReadBackAsThePlainBackendReturnsThem() throws Exception {
        Document doc = new Document("_id", "all").append("s", "héllo 🚀").append("empty", "").append("i", 42)
                .append("l", 1L << 40).append("d", -0.0).append("nan", Double.NaN).append("t", true).append("f", false)
                .append("null", null).append("date", new Date(1_700_000_000_123L)).append("oid", new ObjectId())
                .append("bin", new Binary(new byte[] {1, 2, 3}))
                .append("uuid", new Binary(BsonBinarySubType.UUID_STANDARD, new byte[16]))
                .append("dec", Decimal128.parse("12.345")).append("ts", new BsonTimestamp(1_700_000_000, 7))
                .append("re", new BsonRegularExpression("^a.*", "i")).append("min", new MinKey()).append("max", new MaxKey())
                .append("code", new Code("x => x")).append("list", List.of(1, "two", 3.0, new Document("n", List.of())))
                .append("nested", new Document("b", 2).append("a", new Document("deep", List.of(List.of(1L)))));
        List<Object> plain = writeWithPlainBackend(db -> {
            db.getCollection("c").insertOne(doc);
            db.getCollection("c").insertOne(new Document("_id", "old"));
            return List.of(db.getCollection("c").find(Filters.eq("_id", "all")).first());
        });
        try (Database db = Database.open(null, "hd", data)) {
            assertThat(db.collection("c").find(Filters.eq("_id", "all")).first()).isEqualTo(plain.get(0));
            db.collection("c").insertOne(new Document(doc).append("_id", "new"));
            db.collection("c").updateOne(Filters.eq("_id", "old"), new Document("$set", new Document("x", 1)));
        }
        // Reopened: the pages are read back in the new form.
        try (Database db = Database.open(null, "hd", data)) {
            assertThat(db.collection("c").find(Filters.eq("_id", "all")).first()).isEqualTo(plain.get(0));
            assertThat(db.collection("c").find(Filters.eq("_id", "new")).first())
                    .isEqualTo(new Document((Document) plain.get(0)).append("_id", "new"));
            assertThat(db.collection("c").find(Filters.eq("_id", "old")).first()).isEqualTo(new Document("_id", "old").append("x", 1));
            assertThat(db.collection("c").find(Filters.eq("dec", Decimal128.parse("12.345"))).into(new ArrayList<>())).hasSize(2);
        }
    }

    interface Writes {
        List<Object> run(MongoDatabase db);
    }

    /** Writes through mongo-java-server's own TCP server on the plain H2 backend, into the data dir's store file. */
    private List<Object> writeWithPlainBackend(Writes writes) {
        MVStore store = MVStore.open(data.resolve(Database.EMBEDDED_FILE).toString());
        MongoServer server = new MongoServer(new H2Backend(store));
        InetSocketAddress address = server.bind();
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + address.getPort())) {
            return writes.run(client.getDatabase("hd"));
        } finally {
            server.shutdownNow();
            if (!store.isClosed()) {
                store.close();
            }
        }
    }

    private Set<String> mapNames() {
        MVStore store = new MVStore.Builder().fileName(data.resolve(Database.EMBEDDED_FILE).toString()).readOnly().open();
        try {
            return store.getMapNames();
        } finally {
            store.close();
        }
    }

    /** An id written as "collection/_id" (string ids) or {c, id}. */
    private static Document find(Database db, Object written) {
        if (written instanceof Document d) {
            return db.collection(d.getString("c")).find(Filters.eq("_id", d.get("id"))).first();
        }
        String s = (String) written;
        int slash = s.indexOf('/');
        return db.collection(s.substring(0, slash)).find(Filters.eq("_id", s.substring(slash + 1))).first();
    }
}
