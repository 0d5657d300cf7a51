package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.WriteConcern;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.protocol.cli.Cli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(90)
class DbExportImportTest {
    @TempDir
    Path root;

    record Run(int exit, String out) {
    }

    static Run db(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            String[] full = new String[args.length + 1];
            full[0] = "db";
            System.arraycopy(args, 0, full, 1, args.length);
            int exit = Cli.execute(new ManagerMain(), full);
            return new Run(exit, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void exportThenImportReproducesUsersTokensAndHosts() throws Exception {
        Path first = root.resolve("first");
        Path backup = root.resolve("backup.jsonl");
        String admin;
        String member;
        JsonNode users;
        JsonNode hosts;
        try (TestManager m = TestManager.start(first);
             TestAgent worker = TestAgent.start("worker", m.manager.identity().fingerprint());
             TestAgent guardian = TestAgent.start("guardian", m.manager.identity().fingerprint())) {
            admin = m.adminToken;
            member = m.userToken("ada", "member");
            assertThat(m.admin("POST", "/hosts", Map.of("name", "lumi", "worker", worker.registration(),
                    "guardian", guardian.registration())).status()).isEqualTo(201);
            users = m.admin("GET", "/users", null).json();
            hosts = m.admin("GET", "/hosts", null).json();

            Run refused = db("export", "--data-dir", first.resolve("data").toString(), "--out", backup.toString());
            assertThat(refused.exit()).as(refused.out()).isNotZero();
            assertThat(refused.out()).contains("in use by another process");
            assertThat(backup).doesNotExist();
        }

        Run export = db("export", "--data-dir", first.resolve("data").toString(), "--out", backup.toString());
        assertThat(export.exit()).as(export.out()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(backup))).isEqualTo("rw-------");
        assertThat(Files.readAllLines(backup)).allMatch(l -> l.startsWith("{\"collection\": \""))
                .anyMatch(l -> l.contains("\"collection\": \"tokens\""));

        Path second = root.resolve("second");
        Run imported = db("import", "--data-dir", second.resolve("data").toString(), "--in", backup.toString());
        assertThat(imported.exit()).as(imported.out()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(second.resolve("data"))))
                .isEqualTo("rwx------");

        try (TestManager m = TestManager.start(second)) {
            assertThat(m.get("/users", admin).json()).isEqualTo(users);
            assertThat(m.get("/hosts", admin).json().get(0).get("name")).isEqualTo(hosts.get(0).get("name"));
            assertThat(m.get("/hosts", admin).json().get(0).get("id")).isEqualTo(hosts.get(0).get("id"));
            assertThat(m.get("/me", member).json().get("name").asText()).isEqualTo("ada");
            assertThat(m.get("/me", "hd_not_a_token").status()).isEqualTo(401);
        }

        Run again = db("import", "--data-dir", second.resolve("data").toString(), "--in", backup.toString());
        assertThat(again.exit()).isNotZero();
        assertThat(again.out()).contains("not empty");
    }

    @Test
    void onMongoDbTheSecurityRelevantCollectionsWaitForTheJournalOnAMajority() throws Exception {
        // No mongod here: the driver connects lazily, so the configured write concern can be read.
        try (Database db = Database.open("mongodb://127.0.0.1:1/hostdeploy", "hostdeploy", null)) {
            WriteConcern journaled = WriteConcern.MAJORITY.withJournal(true);
            for (String c : new String[] {"users", "tokens", "hosts"}) {
                assertThat(db.collection(c).getWriteConcern()).as(c).isEqualTo(journaled);
                assertThat(db.collection(c).getWriteConcern().getJournal()).isTrue();
            }
            assertThat(db.collection("audit").getWriteConcern()).isNotEqualTo(journaled);
        }
    }
}
