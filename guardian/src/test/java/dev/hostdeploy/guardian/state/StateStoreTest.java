package dev.hostdeploy.guardian.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.Comment;
import dev.hostdeploy.schema.firewall.PortRange;
import dev.hostdeploy.schema.firewall.Proto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {
    @TempDir
    Path dir;

    private static Rule tcp(int port, String owner) {
        return new Rule(Proto.TCP, PortRange.single(port), null, Owner.of("deployment", owner), null);
    }

    @Test
    void changesSurviveARestartAndATornLastLineIsDropped() throws Exception {
        FirewallState s = FirewallState.EMPTY;
        try (StateStore store = new StateStore(dir)) {
            store.load();
            for (StateStore.Change c : List.of(StateStore.Change.addRule(tcp(80, "web")),
                    StateStore.Change.addRule(tcp(443, "web")), StateStore.Change.addRule(tcp(22000, "game")),
                    StateStore.Change.removeRules(List.of(tcp(80, "web"))))) {
                store.append(c);
                s = c.applyTo(s);
            }
            long mark = store.append(StateStore.Change.addRule(tcp(9999, "refused")));
            store.rollback(mark); // nft refused it
        }
        // a crash in the middle of writing the next line
        Files.writeString(dir.resolve(StateStore.JOURNAL), "{\"seq\":6,\"addRules\":[{\"proto",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);

        try (StateStore store = new StateStore(dir)) {
            assertThat(store.load()).isEqualTo(s);
            assertThat(s.rules()).extracting(r -> r.ports().first()).containsExactly(443, 22000);
            store.append(StateStore.Change.addRule(tcp(8080, "web")));
        }
        try (StateStore store = new StateStore(dir)) {
            assertThat(store.load().rules()).extracting(r -> r.ports().first()).containsExactly(443, 22000, 8080);
        }
    }

    private static dev.hostdeploy.schema.ingress.IngressSchema.Route route(String host, int port) {
        return new dev.hostdeploy.schema.ingress.IngressSchema.Route(host, "127.0.0.1:" + port,
                Owner.of("deployment", "web"), "internal");
    }

    @Test
    void ingressRoutesShareTheJournalAndSnapshotAndSurviveATornLineAndOldFilesStillRead() throws Exception {
        // a snapshot and journal line as written before routes existed
        Files.writeString(dir.resolve(StateStore.FILE), "{\"version\":1,\"rules\":[{\"protocol\":\"tcp\",\"port\":22000,"
                + "\"owner\":\"deployment/game\"}],\"forwards\":[],\"seq\":1}");
        Files.writeString(dir.resolve(StateStore.JOURNAL), "{\"seq\":2,\"addRules\":[{\"protocol\":\"tcp\",\"port\":443,"
                + "\"owner\":\"deployment/web\"}]}\n");
        try (StateStore store = new StateStore(dir)) {
            assertThat(store.load().rules()).hasSize(2);
            assertThat(store.routes()).isEmpty();
            store.appendRoutes(List.of(route("a.test", 8080), route("b.test", 8081)), List.of());
            store.appendRoutes(List.of(route("c.test", 8082)), List.of("a.test"));
            store.appendRoutes(List.of(route("a.test", 8080)), List.of("c.test")); // Caddy refused: the inverse
            assertThat(store.routes()).containsOnlyKeys("a.test", "b.test");
            store.appendRoutes(List.of(route("b.test", 9000)), List.of("a.test"));
        }
        Files.writeString(dir.resolve(StateStore.JOURNAL), "{\"seq\":9,\"setRoutes\":[{\"host\":\"x",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (StateStore store = new StateStore(dir)) {
            FirewallState s = store.load();
            assertThat(s.rules()).hasSize(2);
            assertThat(store.routes()).containsOnlyKeys("b.test");
            assertThat(store.routes().get("b.test").upstream()).isEqualTo("127.0.0.1:9000");
            store.save(s); // a snapshot keeps the routes
        }
        assertThat(Files.readString(dir.resolve(StateStore.FILE))).contains("\"routes\"", "b.test");
        try (StateStore store = new StateStore(dir)) {
            store.load();
            assertThat(store.routes()).containsOnlyKeys("b.test");
        }
    }

    @Test
    void changesMadeBeforeACrashSurviveTheZerosTheJournalWasGrownWith() throws Exception {
        StateStore crashed = new StateStore(dir); // never closed, as after kill -9
        crashed.load();
        crashed.append(StateStore.Change.addRule(tcp(80, "web")));
        crashed.append(StateStore.Change.addRule(tcp(443, "web")));
        assertThat(Files.size(dir.resolve(StateStore.JOURNAL))).isGreaterThan(64 * 1024);
        try (StateStore store = new StateStore(dir)) {
            assertThat(store.load().rules()).extracting(r -> r.ports().first()).containsExactly(80, 443);
            store.append(StateStore.Change.addRule(tcp(8080, "web")));
        }
        try (StateStore store = new StateStore(dir)) {
            assertThat(store.load().rules()).extracting(r -> r.ports().first()).containsExactly(80, 443, 8080);
        }
    }

    @Test
    void compactionWritesTheSnapshotAndKeepsTheSameState() throws Exception {
        FirewallState s = FirewallState.EMPTY;
        try (StateStore store = new StateStore(dir)) {
            store.load();
            for (int i = 0; i < 3000; i++) {
                StateStore.Change c = StateStore.Change.addRule(tcp(10000 + i, "o" + (i % 5)));
                store.append(c);
                s = c.applyTo(s);
                FirewallState now = s;
                store.compactIfNeeded(() -> now);
            }
        }
        // measured once closed: while open, the journal is grown ahead with zeros
        assertThat(Files.size(dir.resolve(StateStore.JOURNAL))).isLessThan(Files.size(dir.resolve(StateStore.FILE)));
        try (StateStore store = new StateStore(dir)) {
            assertThat(store.load()).isEqualTo(s);
        }
    }

    @Test
    void addingManyRulesAtOnceMatchesAddingThemOneByOne() {
        Comment c = new Comment("second");
        List<Rule> rules = List.of(tcp(1, "a"), tcp(2, "a"), tcp(1, "b"),
                new Rule(Proto.TCP, PortRange.single(1), null, Owner.of("deployment", "a"), c), tcp(3, "a"));
        FirewallState one = FirewallState.EMPTY;
        for (Rule r : rules) {
            one = one.withRule(r);
        }
        assertThat(FirewallState.EMPTY.withRules(rules)).isEqualTo(one);
        assertThat(one.rules()).hasSize(4);
        assertThat(one.rules().get(0).comment()).isEqualTo(c);
    }

    @Test
    void stateWrittenWithSingleWordOwnersIsReadWithThemAsManualOwners() throws Exception {
        // As the Guardian wrote them before owners became kind/name.
        Files.writeString(dir.resolve(StateStore.FILE), """
                {"version":1,"rules":[{"protocol":"tcp","port":80,"owner":"web"},{"protocol":"tcp","port":22000}],
                 "forwards":[{"protocol":"udp","hostPort":27015,"targetAddress":"10.0.0.5","targetPort":27015,"owner":"game"}],
                 "seq":2}
                """);
        Files.writeString(dir.resolve(StateStore.JOURNAL), """
                {"seq":3,"addRules":[{"protocol":"tcp","port":443,"owner":"web"}]}
                {"seq":4,"removeRules":[{"protocol":"tcp","port":80,"owner":"web"}]}
                """);
        Owner web = Owner.of("manual", "web");
        try (StateStore store = new StateStore(dir)) {
            FirewallState s = store.load();
            assertThat(s.rules()).extracting(r -> r.ports().first(), Rule::owner)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(22000, null), org.assertj.core.groups.Tuple.tuple(443, web));
            assertThat(s.forwards()).extracting(Forward::owner).containsExactly(Owner.of("manual", "game"));
            store.save(s);
        }
        assertThat(Files.readString(dir.resolve(StateStore.FILE))).contains("\"manual/web\"").doesNotContain("\"web\"");
    }
}
