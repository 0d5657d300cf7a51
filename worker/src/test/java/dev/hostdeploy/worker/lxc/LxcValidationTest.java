package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input is refused naming the field before LXD is asked anything: this Worker's LXD socket does
 * not exist, so any request that got past validation would answer {@code unavailable} instead.
 */
class LxcValidationTest {
    @TempDir
    static Path backups;
    static LxcAgent agent;

    @BeforeAll
    static void start() throws Exception {
        agent = new LxcAgent(new LxcOptions(List.of("hd-busybox"), backups, 3, Path.of("/nonexistent/lxd.socket")));
    }

    @AfterAll
    static void stop() {
        agent.close();
    }

    private static void assertInvalid(String command, Map<String, ?> data, String field, String message) {
        AgentCallException e = agent.error(command, data);
        assertThat(e.code()).as("%s %s: %s", command, data, e.getMessage()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(e.error().field()).isEqualTo(field);
        assertThat(e.error().message()).contains(message);
    }

    @Test
    void containerNamesMustBeShortLowercaseHostnames() {
        assertInvalid("lxc.get", Map.of(), "name", "is required");
        assertInvalid("lxc.get", Map.of("name", "Alice"), "name", "[a-z][a-z0-9-]{0,62}");
        assertInvalid("lxc.get", Map.of("name", "a".repeat(64)), "name", "[a-z][a-z0-9-]{0,62}");
        assertInvalid("lxc.start", Map.of("name", "../etc"), "name", "[a-z]");
        assertInvalid("lxc.delete", Map.of("name", "web-"), "name", "must not end with '-'");
        assertInvalid("lxc.list", Map.of("owner", "bob; rm -rf /"), "owner", "must be kind/name");
        assertInvalid("lxc.list", Map.of("owner", "alice"), "owner", "must be kind/name");
    }

    @Test
    void createRefusesImagesOutsideTheAllowlistBadKeysAndInsaneLimits() {
        Map<String, Object> ok = Map.of("name", "web", "image", "hd-busybox", "owner", "member/alice");
        assertInvalid("lxc.create", with(ok, "image", "ubuntu/22.04"), "image", "is not an allowed image");
        assertInvalid("lxc.create", without(ok, "owner"), "owner", "is required");
        assertInvalid("lxc.create", with(ok, "sshKeys", List.of("ssh-rsa AAAA")), "sshKeys[0]", "truncated");
        assertInvalid("lxc.create", with(ok, "limits", Map.of("cpu", 0)), "limits.cpu", "from 1 to");
        assertInvalid("lxc.create", with(ok, "limits", Map.of("cpu", 1000)), "limits.cpu", "from 1 to");
        assertInvalid("lxc.create", with(ok, "limits", Map.of("memory", "lots")), "limits.memory", "LXD size");
        assertInvalid("lxc.create", with(ok, "limits", Map.of("memory", "1MiB")), "limits.memory", "between");
        assertInvalid("lxc.create", with(ok, "limits", Map.of("disk", "100TiB")), "limits.disk", "between");
        assertInvalid("lxc.limits.set", Map.of("name", "web", "limits", Map.of()), "limits", "at least one");
    }

    @Test
    void sshExposureSnapshotsAndSchedulesAreChecked() {
        assertInvalid("lxc.ssh.expose", Map.of("name", "web", "hostPort", 22), "hostPort", "1024 to 65535");
        assertInvalid("lxc.ssh.expose", Map.of("name", "web", "hostPort", 2222, "address", "example.com"), "address", "literal");
        assertInvalid("lxc.ssh.expose", Map.of("name", "web", "hostPort", 2222, "address", ":::::1::"), "address", "literal");
        assertInvalid("lxc.ssh.expose", Map.of("name", "web", "hostPort", 2222, "address", "300.1.1.1"), "address", "literal");
        assertInvalid("lxc.snapshot.create", Map.of("name", "web", "snapshot", "a/b"), "snapshot", "must match");
        assertInvalid("lxc.snapshot.schedule", Map.of("name", "web", "schedule", "every day"), "schedule", "cron");
        assertInvalid("lxc.snapshot.schedule", Map.of("name", "web", "schedule", "@daily", "expiry", "soon"), "expiry", "2w");
    }

    @Test
    void portExposureIsLoopbackOnlyWithPortsInRange() {
        Map<String, Object> ok = Map.of("name", "web", "containerPort", 8080, "hostPort", 23000);
        assertInvalid("lxc.port.expose", with(ok, "address", "0.0.0.0"), "address", "loopback");
        assertInvalid("lxc.port.expose", with(ok, "address", "192.168.1.2"), "address", "loopback");
        assertInvalid("lxc.port.expose", with(ok, "containerPort", 0), "containerPort", "1 to 65535");
        assertInvalid("lxc.port.expose", without(ok, "containerPort"), "containerPort", "is required");
        assertInvalid("lxc.port.expose", with(ok, "hostPort", 80), "hostPort", "1024 to 65535");
        assertInvalid("lxc.port.unexpose", Map.of("name", "web"), "hostPort", "is required");
        assertInvalid("lxc.port.unexpose", Map.of("name", "Web", "hostPort", 23000), "name", "[a-z]");
    }

    @Test
    void backupNamesCannotLeaveTheBackupRoot() {
        assertInvalid("lxc.backup.restore", Map.of("name", "web", "backup", "../../../etc/shadow"), "backup", "backup id");
        assertInvalid("lxc.backup.delete", Map.of("name", "web", "backup", "20260101T000000000Z/../x"), "backup", "backup id");
        assertInvalid("lxc.backup.restore", Map.of("name", "web", "backup", "20260101T000000000Z", "asName", "../x"), "asName", "[a-z]");
        assertInvalid("lxc.backup.list", Map.of("name", ".."), "name", "[a-z]");
    }

    @Test
    void aValidRequestReachesLxdAndReportsItUnavailable() {
        AgentCallException e = agent.error("lxc.create", Map.of("name", "web", "image", "hd-busybox", "owner", "member/alice"));
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.getMessage()).contains("LXD is not reachable");
    }

    static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> m = new java.util.HashMap<>(base);
        m.put(key, value);
        return m;
    }

    static Map<String, Object> without(Map<String, Object> base, String key) {
        Map<String, Object> m = new java.util.HashMap<>(base);
        m.remove(key);
        return m;
    }
}
