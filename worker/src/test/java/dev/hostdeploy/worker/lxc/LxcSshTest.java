package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member logs in to their container with the real ssh client, through the loopback port the Worker
 * exposed with an LXD proxy device: no host account, no NIC in the container.
 */
class LxcSshTest {
    @TempDir
    static Path dir;
    static LxcAgent agent;
    static String name;
    static int port;
    static Path keyA;
    static Path keyB;
    static JsonNode created;

    @BeforeAll
    static void start() throws Exception {
        agent = LxcAgent.withImages(dir.resolve("backups"), 2, Host.DEBIAN, Host.BUSYBOX);
        keyA = keygen("a");
        keyB = keygen("b");
        name = Host.name("hdt-deb");
        created = agent.call("lxc.create", Map.of("name", name, "image", Host.DEBIAN, "owner", "member/carol",
                "sshKeys", List.of(Files.readString(pub(keyA)))));
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        agent.call("lxc.ssh.expose", Map.of("name", name, "hostPort", port, "address", "127.0.0.1"));
    }

    @AfterAll
    static void stop() {
        if (name != null) {
            Host.deleteQuietly(name);
        }
        if (agent != null) {
            agent.close();
        }
    }

    static Path keygen(String id) throws Exception {
        Path k = dir.resolve("id_" + id);
        Host.Result r = Host.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", id, "-f", k.toString()), 30);
        assertThat(r.code()).isZero();
        Files.setPosixFilePermissions(k, PosixFilePermissions.fromString("rw-------"));
        return k;
    }

    static Path pub(Path key) {
        return key.resolveSibling(key.getFileName() + ".pub");
    }

    static Host.Result ssh(Path key, String... command) {
        List<String> cmd = new java.util.ArrayList<>(List.of("ssh", "-i", key.toString(), "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                "root@127.0.0.1"));
        cmd.addAll(List.of(command));
        return Host.run(cmd, 60);
    }

    @Test
    void theMemberLogsInWithTheirKeyThroughTheExposedPortAndAWrongKeyIsRefused() {
        assertThat(created.path("ssh").asText()).isEqualTo("running");
        Host.Result ok = ssh(keyA, "hostname");
        assertThat(ok.code()).as(ok.out()).isZero();
        assertThat(ok.out().strip()).isEqualTo(name);

        Host.Result wrong = ssh(keyB, "hostname");
        assertThat(wrong.code()).isNotZero();
        assertThat(wrong.out()).contains("Permission denied");
    }

    @Test
    void replacedKeysTakeEffectForTheNextLogin() throws Exception {
        agent.call("lxc.keys.set", Map.of("name", name, "sshKeys", List.of(Files.readString(pub(keyB)))));
        try {
            Host.Result b = ssh(keyB, "hostname");
            assertThat(b.code()).as(b.out()).isZero();
            assertThat(ssh(keyA, "hostname").out()).contains("Permission denied");
        } finally {
            agent.call("lxc.keys.set", Map.of("name", name, "sshKeys", List.of(Files.readString(pub(keyA)))));
        }
        assertThat(ssh(keyA, "true").code()).isZero();
    }

    @Test
    void eachContainerGetsItsOwnHostKeys() {
        // The image ships none: they are made in the container when sshd is set up.
        String fp = Host.read(name, "ssh-keygen", "-l", "-f", "/etc/ssh/ssh_host_ed25519_key.pub");
        assertThat(fp).contains("SHA256:");
    }
}
