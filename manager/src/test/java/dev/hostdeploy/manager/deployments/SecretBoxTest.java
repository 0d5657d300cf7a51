package dev.hostdeploy.manager.deployments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretBoxTest {
    @TempDir
    Path dir;

    @Test
    void envIsSealedUnderAnOwnerOnlyKeyAndOpensOnlyForItsDeployment() throws Exception {
        SecretBox box = SecretBox.open(dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(SecretBox.KEY_FILE))))
                .isEqualTo("rw-------");
        String sealed = box.sealEnv(Map.of("TOKEN", "hunter2"), "dep-1");
        assertThat(sealed).doesNotContain("hunter2").doesNotContain("TOKEN");
        assertThat(box.sealEnv(Map.of("TOKEN", "hunter2"), "dep-1")).as("a fresh nonce each time").isNotEqualTo(sealed);
        assertThat(SecretBox.open(dir).openEnv(sealed, "dep-1")).as("after a restart").containsEntry("TOKEN", "hunter2");
        assertThatThrownBy(() -> box.openEnv(sealed, "dep-2")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aKeyFileOthersCanReadIsRefused() throws Exception {
        SecretBox.open(dir);
        Files.setPosixFilePermissions(dir.resolve(SecretBox.KEY_FILE), PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> SecretBox.open(dir)).hasMessageContaining("chmod 600");
    }
}
