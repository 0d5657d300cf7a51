package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.lxc.LxcSchema;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lxc.* commands against the real LXD with the busybox image (no sshd, no package manager). One
 * container is shared by the tests that only read or reversibly change it; each test that needs its
 * own makes and deletes it.
 */
class LxcContainersTest {
    static final int KEEP = 2;
    @TempDir
    static Path home;
    /** Made by the Worker, in a directory every local user may enter (as /var/lib/hostdeploy is). */
    static Path backups;
    static LxcAgent agent;
    static String shared;
    static JsonNode created;
    static final List<String> cleanup = new ArrayList<>();
    static String key1;
    static String key2;

    @BeforeAll
    static void start() throws Exception {
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        backups = home.resolve("lxc-backups");
        agent = LxcAgent.withImages(backups, KEEP, Host.BUSYBOX);
        key1 = keygen("one");
        key2 = keygen("two");
        shared = Host.name("hdt");
        cleanup.add(shared);
        created = agent.call("lxc.create", Map.of("name", shared, "image", Host.BUSYBOX, "owner", "member/alice",
                "sshKeys", List.of(key1), "limits", Map.of("cpu", 1, "memory", "256MiB", "disk", "1GiB")));
    }

    @AfterAll
    static void stop() {
        cleanup.forEach(Host::deleteQuietly);
        if (agent != null) {
            agent.close();
        }
    }

    static String keygen(String name) throws Exception {
        Path dir = Files.createTempDirectory("hd-key");
        Host.Result r = Host.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                "-f", dir.resolve("k").toString()), 30);
        assertThat(r.code()).isZero();
        return Files.readString(dir.resolve("k.pub")).strip();
    }

    private static String fresh(String prefix) {
        String name = Host.name(prefix);
        cleanup.add(name);
        agent.call("lxc.create", Map.of("name", name, "image", Host.BUSYBOX, "owner", "member/bob"));
        return name;
    }

    @Test
    void createStartsTheContainerWithItsLimitsVisibleInTheInstanceConfig() throws Exception {
        // The Manager reads the reply as the schema's record.
        LxcSchema.Created reply = Json.MAPPER.treeToValue(created, LxcSchema.Created.class);
        assertThat(reply.owner()).isEqualTo(Owner.of("member", "alice"));
        assertThat(reply.container().limits()).isEqualTo(new LxcSchema.AppliedLimits(1, "256MiB", "1GiB"));
        assertThat(created.path("name").asText()).isEqualTo(shared);
        assertThat(created.path("status").asText()).isEqualTo("Running");
        assertThat(created.path("owner").asText()).isEqualTo("member/alice");
        assertThat(created.path("limits").path("cpu").asInt()).isEqualTo(1);
        assertThat(Host.lxc("list", shared, "-c", "s", "--format", "csv").strip()).isEqualTo("RUNNING");
        assertThat(Host.lxc("config", "get", shared, "user.hostdeploy.owner").strip()).isEqualTo("member/alice");
        assertThat(Host.lxc("config", "get", shared, "limits.cpu").strip()).isEqualTo("1");
        assertThat(Host.lxc("config", "get", shared, "limits.memory").strip()).isEqualTo("256MiB");
        assertThat(Host.lxc("config", "device", "get", shared, "root", "size").strip()).isEqualTo("1GiB");
        // ...and the kernel inside enforces them.
        assertThat(Host.memoryLimit(shared)).isEqualTo(256L << 20);
        assertThat(Host.read(shared, "nproc").strip()).isEqualTo("1");
    }

    @Test
    void aBusyboxImageStillGetsItsContainerButSshIsReportedUnavailable() {
        assertThat(created.path("ssh").asText()).isEqualTo("unavailable");
        assertThat(created.path("sshReason").asText()).contains("no OpenSSH server and no package manager");
        // The keys are in place anyway, for an sshd the member may add later.
        assertThat(Host.read(shared, "cat", "/root/.ssh/authorized_keys")).contains(key1);
        assertThat(Host.read(shared, "stat", "-c", "%a %u", "/root/.ssh/authorized_keys").strip()).isEqualTo("600 0");
        assertThat(agent.call("lxc.get", Map.of("name", shared)).path("ssh").asText()).isEqualTo("unavailable");
    }

    @Test
    void replacedKeysReplaceTheAuthorizedKeysFile() {
        JsonNode r = agent.call("lxc.keys.set", Map.of("name", shared, "sshKeys", List.of(key2)));
        assertThat(r.path("fingerprints")).hasSize(1);
        String file = Host.read(shared, "cat", "/root/.ssh/authorized_keys");
        assertThat(file).contains(key2).doesNotContain(key1);
        assertThat(Host.read(shared, "stat", "-c", "%a", "/root/.ssh/authorized_keys").strip()).isEqualTo("600");
        agent.call("lxc.keys.set", Map.of("name", shared, "sshKeys", List.of(key1)));
    }

    @Test
    void createRefusesANameThatIsTaken() {
        AgentCallException e = agent.error("lxc.create", Map.of("name", shared, "image", Host.BUSYBOX, "owner", "member/eve"));
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(Host.lxc("config", "get", shared, "user.hostdeploy.owner").strip()).isEqualTo("member/alice");
    }

    @Test
    void listFiltersByOwnerAndContainersHostdeployDidNotMakeStayInvisible() {
        String foreign = Host.name("hdt-own");
        cleanup.add(foreign);
        Host.lxc("init", Host.BUSYBOX, foreign);
        List<String> alice = names(agent.call("lxc.list", Map.of("owner", "member/alice")));
        assertThat(alice).contains(shared).doesNotContain(foreign);
        assertThat(names(agent.call("lxc.list", Map.of("owner", "member/nobody-has-this")))).isEmpty();
        assertThat(names(agent.call("lxc.list", Map.of()))).contains(shared).doesNotContain(foreign);
        assertThat(agent.error("lxc.get", Map.of("name", foreign)).code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(agent.error("lxc.delete", Map.of("name", foreign, "force", true)).code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(Host.exists(foreign)).isTrue();
        assertThat(agent.error("lxc.get", Map.of("name", "hdt-never-made")).code()).isEqualTo(ErrorCode.NOT_FOUND);
    }

    @Test
    void theSummaryListsTheContainersLxcListShowsWithTheirStatusAndOwnerAndNoForeignOnes() {
        String foreign = Host.name("hdt-sum");
        cleanup.add(foreign);
        Host.lxc("init", Host.BUSYBOX, foreign);
        JsonNode listed = agent.call("lxc.list", Map.of()).get("containers");
        Map<String, String> expected = new java.util.TreeMap<>();
        listed.forEach(c -> expected.put(c.get("name").asText(), c.get("status").asText() + " " + c.get("owner").asText()));

        Map<String, String> summary = new java.util.TreeMap<>();
        agent.module.containerItems().forEach(i -> summary.put(i.name(), i.status() + " " + i.owner()));

        assertThat(summary).isEqualTo(expected).containsEntry(shared, "Running member/alice").doesNotContainKey(foreign);
    }

    private static List<String> names(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.path("containers").forEach(c -> out.add(c.path("name").asText()));
        return out;
    }

    @Test
    void stopStartRestartAndDeleteRefusesARunningContainerUnlessForced() {
        String c = fresh("hdt-life");
        assertThat(agent.call("lxc.stop", Map.of("name", c, "force", true)).path("status").asText()).isEqualTo("Stopped");
        assertThat(Host.lxc("list", c, "-c", "s", "--format", "csv").strip()).isEqualTo("STOPPED");
        assertThat(agent.call("lxc.start", Map.of("name", c)).path("status").asText()).isEqualTo("Running");
        String pidBefore = Host.lxc("query", "/1.0/instances/" + c + "/state");
        assertThat(agent.call("lxc.restart", Map.of("name", c)).path("status").asText()).isEqualTo("Running");
        assertThat(Host.lxc("query", "/1.0/instances/" + c + "/state")).isNotEqualTo(pidBefore);

        AgentCallException e = agent.error("lxc.delete", Map.of("name", c));
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("is running");
        assertThat(Host.exists(c)).isTrue();
        assertThat(agent.call("lxc.delete", Map.of("name", c, "force", true)).path("deleted").asBoolean()).isTrue();
        assertThat(Host.exists(c)).isFalse();
    }

    @Test
    void getShowsTheAddressesOfAContainerWithANetworkButNotLoopback() {
        String name = fresh("hdt-nic");
        assertThat(agent.call("lxc.get", Map.of("name", name)).path("addresses")).isEmpty();
        // A NIC that needs no bridge (a veth pair), with an address set inside.
        Host.lxc("config", "device", "add", name, "eth0", "nic", "nictype=p2p", "name=eth0");
        Host.exec(name, "ip", "link", "set", "eth0", "up");
        Host.exec(name, "ip", "addr", "add", "10.77.0.2/24", "dev", "eth0");
        JsonNode view = agent.call("lxc.get", Map.of("name", name));
        assertThat(view.path("status").asText()).isEqualTo("Running");
        assertThat(view.path("addresses")).extracting(JsonNode::asText).contains("10.77.0.2")
                .doesNotContain("127.0.0.1", "::1");
    }

    @Test
    void limitsSetChangesTheRunningContainersLimits() {
        String c = fresh("hdt-lim");
        JsonNode r = agent.call("lxc.limits.set", Map.of("name", c, "limits", Map.of("memory", "128MiB", "cpu", 2)));
        assertThat(r.path("limits").path("memory").asText()).isEqualTo("128MiB");
        assertThat(Host.lxc("config", "get", c, "limits.memory").strip()).isEqualTo("128MiB");
        assertThat(Host.memoryLimit(c)).isEqualTo(128L << 20);
        agent.call("lxc.limits.set", Map.of("name", c, "limits", Map.of("disk", "2GiB")));
        assertThat(Host.lxc("config", "device", "get", c, "root", "size").strip()).isEqualTo("2GiB");
    }

    @Test
    void aFileChangedAfterASnapshotComesBackOnRestore() {
        Host.exec(shared, "sh", "-c", "echo before > /root/notes.txt");
        JsonNode snap = agent.call("lxc.snapshot.create", Map.of("name", shared, "snapshot", "s1"));
        assertThat(snap.path("name").asText()).isEqualTo("s1");
        // The Worker does not look first: this is LXD's own refusal, answered as a protocol error.
        AgentCallException taken = agent.error("lxc.snapshot.create", Map.of("name", shared, "snapshot", "s1"));
        assertThat(taken.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(taken.getMessage()).contains("LXD: ");
        Host.exec(shared, "sh", "-c", "echo after > /root/notes.txt; echo new > /root/extra.txt");

        JsonNode list = agent.call("lxc.snapshot.list", Map.of("name", shared));
        assertThat(list.path("snapshots").findValuesAsText("name")).contains("s1");
        JsonNode restored = agent.call("lxc.snapshot.restore", Map.of("name", shared, "snapshot", "s1"));
        assertThat(restored.path("status").asText()).isEqualTo("Running");
        assertThat(Host.read(shared, "cat", "/root/notes.txt").strip()).isEqualTo("before");
        assertThat(Host.run(List.of("lxc", "exec", shared, "--", "test", "-e", "/root/extra.txt"), 30).code()).isNotZero();

        agent.call("lxc.snapshot.delete", Map.of("name", shared, "snapshot", "s1"));
        assertThat(agent.call("lxc.snapshot.list", Map.of("name", shared)).path("snapshots").findValuesAsText("name"))
                .doesNotContain("s1");
        assertThat(agent.error("lxc.snapshot.restore", Map.of("name", shared, "snapshot", "s1")).code())
                .isEqualTo(ErrorCode.NOT_FOUND);
    }

    @Test
    void scheduledSnapshotsAreLxdsOwnScheduleAndExpiry() {
        JsonNode r = agent.call("lxc.snapshot.schedule", Map.of("name", shared, "schedule", "0 3 * * *", "expiry", "2w"));
        assertThat(r.path("snapshots").path("schedule").asText()).isEqualTo("0 3 * * *");
        assertThat(Host.lxc("config", "get", shared, "snapshots.schedule").strip()).isEqualTo("0 3 * * *");
        assertThat(Host.lxc("config", "get", shared, "snapshots.expiry").strip()).isEqualTo("2w");
        agent.call("lxc.snapshot.schedule", Map.of("name", shared, "schedule", ""));
        assertThat(Host.lxc("config", "get", shared, "snapshots.schedule").strip()).isEmpty();
    }

    @Test
    void aBackupRestoredUnderANewNameHasTheSameFiles() throws Exception {
        Host.exec(shared, "sh", "-c", "echo precious > /root/data.txt");
        JsonNode b = agent.call("lxc.backup.create", Map.of("name", shared));
        Path tarball = Path.of(b.path("path").asText());
        assertThat(tarball).isEqualTo(backups.resolve(shared).resolve(b.path("backup").asText() + ".tar.gz"));
        // The recorded checksum is one sha256sum itself accepts.
        Host.Result sum = Host.run(List.of("sh", "-c", "cd \"$0\" && sha256sum -c \"$1\"", tarball.getParent().toString(),
                tarball.getFileName() + ".sha256"), 60);
        assertThat(sum.code()).as(sum.out()).isZero();

        String copy = Host.name("hdt-copy");
        cleanup.add(copy);
        JsonNode restored = agent.call("lxc.backup.restore", Map.of("name", shared, "backup", b.path("backup").asText(),
                "asName", copy));
        assertThat(restored.path("name").asText()).isEqualTo(copy);
        assertThat(restored.path("owner").asText()).isEqualTo("member/alice");
        agent.call("lxc.start", Map.of("name", copy));
        assertThat(Host.read(copy, "cat", "/root/data.txt").strip()).isEqualTo("precious");
        // The copy is a container of its own: its root is other host uids than the original's.
        assertThat(Host.hostUidOfRoot(copy)).isNotEqualTo(Host.hostUidOfRoot(shared));
        assertThat(Host.read(copy, "cat", "/root/.ssh/authorized_keys")).contains(key1);
        agent.call("lxc.delete", Map.of("name", copy, "force", true));

        AgentCallException taken = agent.error("lxc.backup.restore", Map.of("name", shared,
                "backup", b.path("backup").asText(), "asName", shared));
        assertThat(taken.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(taken.getMessage()).contains("is running");
    }

    @Test
    void aCorruptedBackupIsRefused() throws Exception {
        JsonNode b = agent.call("lxc.backup.create", Map.of("name", shared));
        Path tarball = Path.of(b.path("path").asText());
        try (RandomAccessFile f = new RandomAccessFile(tarball.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int x = f.read();
            f.seek(f.length() / 2);
            f.write(x ^ 0xff);
        }
        String copy = Host.name("hdt-bad");
        cleanup.add(copy);
        AgentCallException e = agent.error("lxc.backup.restore", Map.of("name", shared, "backup", b.path("backup").asText(),
                "asName", copy));
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("corrupted");
        assertThat(Host.exists(copy)).isFalse();
    }

    @Test
    void retentionKeepsOnlyTheNewestBackups() {
        String c = fresh("hdt-keep");
        List<String> ids = new ArrayList<>();
        JsonNode last = null;
        for (int i = 0; i < KEEP + 1; i++) {
            last = agent.call("lxc.backup.create", Map.of("name", c));
            ids.add(last.path("backup").asText());
        }
        assertThat(last.path("pruned").findValuesAsText("")).isEmpty();
        assertThat(last.path("pruned").get(0).asText()).isEqualTo(ids.get(0));
        JsonNode list = agent.call("lxc.backup.list", Map.of("name", c));
        assertThat(list.path("backups").findValuesAsText("backup")).containsExactlyElementsOf(ids.subList(1, KEEP + 1));
        assertThat(backups.resolve(c).resolve(ids.get(0) + ".tar.gz")).doesNotExist();
        assertThat(backups.resolve(c).resolve(ids.get(0) + ".tar.gz.sha256")).doesNotExist();

        agent.call("lxc.backup.delete", Map.of("name", c, "backup", ids.get(1)));
        assertThat(agent.call("lxc.backup.list", Map.of("name", c)).path("backups").findValuesAsText("backup"))
                .containsExactly(ids.get(2));
        // Restoring over the container itself replaces it (it must be stopped first).
        Host.exec(c, "sh", "-c", "echo later > /root/later.txt");
        assertThat(agent.error("lxc.backup.restore", Map.of("name", c, "backup", ids.get(2))).code())
                .isEqualTo(ErrorCode.CONFLICT);
        agent.call("lxc.stop", Map.of("name", c, "force", true));
        JsonNode over = agent.call("lxc.backup.restore", Map.of("name", c, "backup", ids.get(2)));
        assertThat(over.path("name").asText()).isEqualTo(c);
        agent.call("lxc.start", Map.of("name", c));
        assertThat(Host.run(List.of("lxc", "exec", c, "--", "test", "-e", "/root/later.txt"), 30).code()).isNotZero();
        assertThat(Host.lxc("list", "--format", "csv", "-c", "n")).doesNotContain("hdr-");

        // Backups outlive their container: a deleted member container can still be brought back.
        agent.call("lxc.delete", Map.of("name", c, "force", true));
        assertThat(agent.call("lxc.backup.list", Map.of("name", c)).path("backups")).hasSize(1);
        agent.call("lxc.backup.restore", Map.of("name", c, "backup", ids.get(2)));
        assertThat(Host.exists(c)).isTrue();
    }

    @Test
    void backupsAndTheirDirectoriesAreReadableOnlyByTheirOwner() throws Exception {
        JsonNode b = agent.call("lxc.backup.create", Map.of("name", shared));
        Path tarball = Path.of(b.path("path").asText());
        Path sum = tarball.resolveSibling(tarball.getFileName() + ".sha256");
        assertThat(mode(backups)).isEqualTo("rwx------");
        assertThat(mode(tarball.getParent())).isEqualTo("rwx------");
        assertThat(mode(tarball)).isEqualTo("rw-------");
        assertThat(mode(sum)).isEqualTo("rw-------");
        // Another local user (nobody) cannot read the container's filesystem out of it.
        for (Path p : List.of(tarball, sum)) {
            Host.Result r = Host.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "cat", p.toString()), 30);
            assertThat(r.code()).as(r.out()).isNotZero();
            assertThat(r.out()).contains("Permission denied");
        }
        Host.Result list = Host.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "ls", backups.toString()), 30);
        assertThat(list.code()).as(list.out()).isNotZero();
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void eachContainerIsUnprivilegedWithHostIdsOfItsOwn() {
        String other = fresh("hdt-ids");
        for (String c : List.of(shared, other)) {
            assertThat(Host.lxc("config", "get", c, "security.privileged").strip()).isEqualTo("false");
            assertThat(Host.lxc("config", "get", c, "security.idmap.isolated").strip()).isEqualTo("true");
        }
        assertThat(Host.lxc("config", "get", shared, "volatile.idmap.base").strip())
                .isNotEqualTo(Host.lxc("config", "get", other, "volatile.idmap.base").strip());
        // What the kernel does: root of one container is not root of the host, nor root of the other.
        long aliceRoot = Host.hostUidOfRoot(shared);
        long bobRoot = Host.hostUidOfRoot(other);
        assertThat(aliceRoot).isPositive().isNotEqualTo(bobRoot);
        assertThat(Math.abs(aliceRoot - bobRoot)).as("ranges do not overlap").isGreaterThanOrEqualTo(65536);
    }

    @Test
    void aDefaultProfileThatSaysPrivilegedDoesNotMakeAPrivilegedContainer() {
        Host.lxc("profile", "set", "default", "security.privileged", "true");
        String c;
        try {
            c = fresh("hdt-priv");
        } finally {
            Host.lxc("profile", "unset", "default", "security.privileged");
        }
        assertThat(Host.lxc("config", "get", c, "security.privileged").strip()).isEqualTo("false");
        assertThat(Host.lxc("config", "get", c, "security.idmap.isolated").strip()).isEqualTo("true");
        assertThat(Host.hostUidOfRoot(c)).isPositive();
    }

    @Test
    void aBackupOfAPrivilegedContainerComesBackUnprivileged() throws Exception {
        // A container from before the Worker pinned these keys, backed up into the store by hand.
        String old = Host.name("hdt-old");
        cleanup.add(old);
        Host.lxc("init", Host.BUSYBOX, old, "-c", "security.privileged=true", "-c", "user.hostdeploy.owner=member/carol");
        Path dir = Files.createDirectories(backups.resolve(old));
        String id = "20250101T000000000Z";
        Path tarball = dir.resolve(id + ".tar.gz");
        Host.lxc("export", old, tarball.toString(), "--instance-only");
        Host.Result sum = Host.run(List.of("sh", "-c", "cd \"$0\" && sha256sum \"$1\" > \"$1.sha256\"", dir.toString(),
                tarball.getFileName().toString()), 60);
        assertThat(sum.code()).as(sum.out()).isZero();
        Host.lxc("delete", old);

        agent.call("lxc.backup.restore", Map.of("name", old, "backup", id));
        assertThat(Host.lxc("config", "get", old, "security.privileged").strip()).isEqualTo("false");
        assertThat(Host.lxc("config", "get", old, "security.idmap.isolated").strip()).isEqualTo("true");
        agent.call("lxc.start", Map.of("name", old));
        assertThat(Host.hostUidOfRoot(old)).isPositive();
    }

    @Test
    void sshExposeAddsAProxyDeviceAndRefusesAPortAnotherContainerHolds() throws Exception {
        String c = fresh("hdt-ssh");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        JsonNode r = agent.call("lxc.ssh.expose", Map.of("name", c, "hostPort", port, "address", "127.0.0.1"));
        assertThat(r.path("sshExposed").asText()).isEqualTo("127.0.0.1:" + port);
        assertThat(Host.lxc("config", "device", "get", c, "hostdeploy-ssh", "connect").strip()).isEqualTo("tcp:127.0.0.1:22");
        // Exposing again on the same port is a no-op, not a clash with itself.
        assertThat(agent.call("lxc.ssh.expose", Map.of("name", c, "hostPort", port, "address", "127.0.0.1"))
                .path("sshExposed").asText()).isEqualTo("127.0.0.1:" + port);
        AgentCallException e = agent.error("lxc.ssh.expose", Map.of("name", shared, "hostPort", port, "address", "127.0.0.1"));
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);

        // A port some host process holds is refused before LXD is asked to listen on it.
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            AgentCallException held = agent.error("lxc.ssh.expose", Map.of("name", shared,
                    "hostPort", busy.getLocalPort(), "address", "127.0.0.1"));
            assertThat(held.code()).isEqualTo(ErrorCode.CONFLICT);
            assertThat(held.getMessage()).contains("already in use on the host");
        }
        assertThat(Host.lxc("config", "device", "list", shared)).doesNotContain("hostdeploy-ssh");

        JsonNode un = agent.call("lxc.ssh.unexpose", Map.of("name", c));
        assertThat(un.path("sshExposed").isNull()).isTrue();
        assertThat(Host.lxc("config", "device", "list", c)).doesNotContain("hostdeploy-ssh");
    }
}
