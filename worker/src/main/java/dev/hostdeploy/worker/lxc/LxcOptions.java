package dev.hostdeploy.worker.lxc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Worker options for LXC member containers (a picocli mixin of the run command). */
public final class LxcOptions {
    public static final Path DEFAULT_BACKUP_ROOT = Path.of("/var/lib/hostdeploy/lxc-backups");
    public static final int DEFAULT_BACKUP_KEEP = 7;

    @Option(names = "--allowed-image", paramLabel = "ALIAS",
            description = "An LXD image alias members may create containers from (repeatable). None: lxc.create is refused.")
    List<String> allowedImages = new ArrayList<>();

    @Option(names = "--backup-root", paramLabel = "DIR",
            description = "Where lxc.backup.create writes tarballs (default: ${DEFAULT-VALUE}).")
    Path backupRoot = DEFAULT_BACKUP_ROOT;

    @Option(names = "--backup-keep", paramLabel = "N",
            description = "Backups kept per container; older ones are pruned (default: ${DEFAULT-VALUE}).")
    int backupKeep = DEFAULT_BACKUP_KEEP;

    @Option(names = "--lxd-socket", paramLabel = "PATH",
            description = "The LXD/Incus unix socket (default: the first of /var/lib/lxd/unix.socket, "
                    + "/var/snap/lxd/common/lxd/unix.socket, /var/lib/incus/unix.socket that exists).")
    Path lxdSocket;

    public LxcOptions() {
    }

    /** For tests and embedding: the same settings as the command-line options. */
    public LxcOptions(List<String> allowedImages, Path backupRoot, int backupKeep, Path lxdSocket) {
        this.allowedImages = new ArrayList<>(allowedImages);
        this.backupRoot = backupRoot;
        this.backupKeep = backupKeep;
        this.lxdSocket = lxdSocket;
    }

    public List<String> allowedImages() {
        return List.copyOf(allowedImages);
    }

    public Path backupRoot() {
        return backupRoot;
    }

    public int backupKeep() {
        return backupKeep;
    }

    public Path lxdSocket() {
        return lxdSocket;
    }
}
