package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups an older Worker left readable by every local user are made owner-only when the Worker starts. */
class LxcBackupPermissionsTest {
    @TempDir
    Path home;

    @Test
    void backupsLeftWorldReadableAreMadeOwnerOnlyAtStartUpWithoutFollowingLinks() throws Exception {
        Path root = home.resolve("lxc-backups");
        Path dir = Files.createDirectories(root.resolve("web"));
        Path tarball = Files.writeString(dir.resolve("20250101T000000000Z.tar.gz"), "not really a tarball");
        Path sum = Files.writeString(dir.resolve("20250101T000000000Z.tar.gz.sha256"), "0  x\n");
        // A link in there must not make the Worker change some other file's mode.
        Path elsewhere = Files.writeString(home.resolve("elsewhere.txt"), "someone else's file");
        Files.createSymbolicLink(dir.resolve("link"), elsewhere);
        for (Path p : List.of(root, dir)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (Path p : List.of(tarball, sum, elsewhere)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        }

        LxcModule.create(new LxcOptions(List.of(), root, 7, null)).close();

        assertThat(mode(root)).isEqualTo("rwx------");
        assertThat(mode(dir)).isEqualTo("rwx------");
        assertThat(mode(tarball)).isEqualTo("rw-------");
        assertThat(mode(sum)).isEqualTo("rw-------");
        assertThat(mode(elsewhere)).isEqualTo("rw-r--r--");
    }

    @Test
    void aWorkerWhoseBackupRootDoesNotExistYetStartsWithoutMakingIt() throws Exception {
        Path root = home.resolve("never-used");
        LxcModule.create(new LxcOptions(List.of(), root, 7, null)).close();
        assertThat(root).doesNotExist();
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
