package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.manager.store.Migrations;
import dev.hostdeploy.manager.store.Migrations.Migration;
import dev.hostdeploy.manager.stats.Records;
import dev.hostdeploy.manager.store.Store;
import dev.hostdeploy.manager.users.Users;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class StoreMigrationsTest {
    @TempDir
    Path data;

    @Test
    void freshDatabaseIsAtTheLatestSchemaVersionAndPersistsUnderTheDataDir() throws Exception {
        try (Store store = Store.open(null, "hostdeploy", data)) {
            assertThat(Migrations.version(store.database())).isEqualTo(Migrations.latest(Migrations.ALL));
        }
        assertThat(data.resolve("mongo.mv.db")).exists();
        assertThat(Files.size(data.resolve("mongo.mv.db"))).isPositive();
    }

    @Test
    void olderDatabaseRunsOnlyTheNewerMigrationsInOrder() throws Exception {
        List<String> ran = new ArrayList<>();
        List<Migration> v1 = List.of(new Migration(1, "one", db -> ran.add("1")));
        try (Store store = Store.open(null, "hostdeploy", data, v1)) {
            store.database().collection("users").insertOne(new Document("_id", "u1").append("name", "Old").append("role", "member"));
        }
        List<Migration> v3 = List.of(
                new Migration(1, "one", db -> ran.add("1 again")),
                new Migration(2, "two", db -> ran.add("2")),
                new Migration(3, "lowercase names", db -> {
                    ran.add("3");
                    for (Document d : db.collection("users").find()) {
                        db.collection("users").updateOne(new Document("_id", d.get("_id")),
                                new Document("$set", new Document("name", d.getString("name").toLowerCase())));
                    }
                }));
        try (Store store = Store.open(null, "hostdeploy", data, v3)) {
            assertThat(ran).containsExactly("1", "2", "3");
            assertThat(Migrations.version(store.database())).isEqualTo(3);
            assertThat(new Users(store.database()).list().get(0).name()).isEqualTo("old");
        }
    }

    @Test
    void workerReportedRecordsMoveAsideSoDeploymentsHoldsTheDesiredState() throws Exception {
        try (Store store = Store.open(null, "hostdeploy", data, Migrations.ALL.subList(0, 2))) {
            store.database().collection("deployments").insertOne(new Document("_id", "h1/web")
                    .append("hostId", "h1").append("name", "web").append("state", "running"));
            store.database().collection("containers").insertOne(new Document("_id", "h1/box")
                    .append("hostId", "h1").append("name", "box").append("state", "Running"));
        }
        try (Store store = Store.open(null, "hostdeploy", data, Migrations.ALL)) {
            var db = store.database();
            assertThat(db.collection("deployments").countDocuments()).isZero();
            assertThat(db.collection("reported_deployments").find().first().getString("name")).isEqualTo("web");
            assertThat(db.collection("reported_containers").find().first().getString("name")).isEqualTo("box");
        }
    }

    @Test
    void aDataDirectoryWithCapitalLettersWorksThoughTheDriverLowerCasesSocketPaths() throws Exception {
        Path upper = data.resolve("Hostdeploy-Data");
        try (Store store = Store.open(null, "hostdeploy", upper)) {
            store.database().collection("users").insertOne(new Document("_id", "u1").append("name", "ada"));
        }
        try (Store store = Store.open(null, "hostdeploy", upper)) {
            assertThat(store.database().collection("users").countDocuments()).isEqualTo(1);
        }
    }

    @Test
    void databaseNewerThanThisManagerIsRefused() throws Exception {
        try (Store store = Store.open(null, "hostdeploy", data, List.of(new Migration(1, "a", db -> { }),
                new Migration(2, "b", db -> { }), new Migration(7, "future", db -> { })))) {
            assertThat(Migrations.version(store.database())).isEqualTo(7);
        }
        assertThatThrownBy(() -> Store.open(null, "hostdeploy", data))
                .hasMessageContaining("schema version 7 is newer");
    }

    @Test
    void recordsAreStoredOnlyWhenChangedAndSurviveAReopen() throws Exception {
        try (Store store = Store.open(null, "hostdeploy", data)) {
            Records r = new Records(store.database());
            r.sync(Records.Kind.DEPLOYMENT, "h1", List.of(new Records.Item("web", "running", null),
                    new Records.Item("api", "failed", null)));
            r.sync(Records.Kind.DEPLOYMENT, "h1", List.of(new Records.Item("web", "running", null)));
            r.sync(Records.Kind.CONTAINER, "h1", List.of(new Records.Item("box", "Running", "ada")));
        }
        try (Store store = Store.open(null, "hostdeploy", data)) {
            assertThat(new Records(store.database()).items(Records.Kind.DEPLOYMENT, "h1"))
                    .containsExactly(new Records.Item("web", "running", null));
            assertThat(new Records(store.database()).items(Records.Kind.CONTAINER, "h1"))
                    .containsExactly(new Records.Item("box", "Running", "ada"));
            assertThat(store.database().collection("reported_deployments").countDocuments()).isEqualTo(1);
        }
    }
}
