package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.lxc.LxcSchema.Backup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.Channels;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Backup tarballs on the host: {@code {root}/{name}/{id}.tar.gz} plus {@code {id}.tar.gz.sha256} in
 * sha256sum's format, where the id is the UTC time it was taken. Ids and names are checked by pattern
 * and every path is checked to stay under the root.
 *
 * <p>A backup is a whole container filesystem (its /etc/shadow, its members' keys and data), so the
 * root, the per-container directories (0700) and the files in them (0600) are owner-only, as LXD keeps
 * its own backups. Files are created with that mode (never world-readable, not even while written);
 * a tree left by an older version is tightened at start-up ({@link #tighten()}) and on each write.
 */
final class BackupStore {
    static final String SUFFIX = ".tar.gz";
    static final String SUM_SUFFIX = ".sha256";
    private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> FILE_ATTR = PosixFilePermissions.asFileAttribute(FILE_MODE);

    private final Path root;
    private final int keep;

    BackupStore(Path root, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("--backup-keep must be at least 1");
        }
        this.root = root.toAbsolutePath().normalize();
        this.keep = keep;
    }

    Path root() {
        return root;
    }

    int keep() {
        return keep;
    }

    private Path dir(String name) {
        LxcRules.name(name, "name");
        return inside(root.resolve(name));
    }

    private Path inside(Path p) {
        Path n = p.toAbsolutePath().normalize();
        if (!n.startsWith(root) || n.equals(root)) {
            throw ProtocolException.invalid("backup", "leaves the backup root");
        }
        return n;
    }

    Path file(String name, String id) {
        LxcRules.backup(id, "backup");
        return inside(dir(name).resolve(id + SUFFIX));
    }

    private static Path sumFile(Path tarball) {
        return tarball.resolveSibling(tarball.getFileName() + SUM_SUFFIX);
    }

    /**
     * Makes an existing backup tree owner-only: the root, the container directories and every file in
     * them. Below the root nothing is followed: a symbolic link is left alone. (The root itself may be a
     * link the operator made to another disk.) Nothing to do when the root does not exist yet;
     * {@link #write} creates it owner-only.
     */
    void tighten() throws IOException {
        if (Files.isDirectory(root)) {
            tightenTree(root.toRealPath());
        }
    }

    private static void tightenTree(Path top) throws IOException {
        Files.walkFileTree(top, Set.of(), 2, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                restrict(d, DIR_MODE);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    restrict(f, FILE_MODE);
                } else if (attrs.isDirectory()) { // one deeper than the walk goes
                    restrict(f, DIR_MODE);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void restrict(Path p, Set<PosixFilePermission> mode) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (!view.readAttributes().permissions().equals(mode)) {
            view.setPermissions(mode);
        }
    }

    /** The root, created owner-only (the mode given to mkdir) or made so. */
    private void ownerOnlyRoot() throws IOException {
        if (Files.isDirectory(root)) {
            restrict(root.toRealPath(), DIR_MODE);
            return;
        }
        Files.createDirectories(root.getParent());
        try {
            Files.createDirectory(root, PosixFilePermissions.asFileAttribute(DIR_MODE));
        } catch (FileAlreadyExistsException raced) {
            restrict(root.toRealPath(), DIR_MODE);
        }
    }

    /** A container's directory, created owner-only, or made so with all it holds. */
    private static void ownerOnlyDirectory(Path d) throws IOException {
        try {
            Files.createDirectory(d, PosixFilePermissions.asFileAttribute(DIR_MODE));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                throw e;
            }
            tightenTree(d);
        }
    }

    /** A new owner-only file, opened for writing; the mode is set by the open itself. */
    private static OutputStream createOwnerOnly(Path f) throws IOException {
        Files.deleteIfExists(f); // a leftover of a crashed write
        return Channels.newOutputStream(Files.newByteChannel(f,
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), FILE_ATTR));
    }

    /** Writes a new backup with {@code writer}, then its checksum; a failed write leaves nothing behind. */
    Backup write(String name, Consumer<OutputStream> writer) {
        try {
            Path dir = dir(name);
            ownerOnlyRoot();
            ownerOnlyDirectory(dir);
            Instant now = Instant.now();
            Path target = file(name, ID.format(now));
            while (Files.exists(target)) {
                now = now.plusMillis(1);
                target = file(name, ID.format(now));
            }
            String id = idOf(target);
            Path part = dir.resolve("." + id + SUFFIX + ".part");
            MessageDigest sha = sha256();
            try (OutputStream out = new DigestOutputStream(createOwnerOnly(part), sha)) {
                writer.accept(out);
            } catch (RuntimeException | IOException e) {
                Files.deleteIfExists(part);
                throw e;
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            move(part, target);
            Path sum = sumFile(target);
            Path sumPart = dir.resolve("." + id + SUFFIX + SUM_SUFFIX + ".part");
            try (OutputStream out = createOwnerOnly(sumPart)) {
                out.write((hex + "  " + target.getFileName() + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            move(sumPart, sum);
            return new Backup(name, id, Files.size(target), hex, now.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String idOf(Path tarball) {
        String f = tarball.getFileName().toString();
        return f.substring(0, f.length() - SUFFIX.length());
    }

    /** Oldest first. A missing directory (never backed up) is an empty list. */
    List<Backup> list(String name) {
        Path dir = dir(name);
        List<Backup> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path p : ds) {
                String id = idOf(p);
                if (!LxcRules.BACKUP.matcher(id).matches()) {
                    continue;
                }
                String sum = readSum(p);
                Instant created = Instant.from(ID.parse(id));
                out.add(new Backup(name, id, Files.size(p), sum, created.toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort((a, b) -> a.backup().compareTo(b.backup()));
        return out;
    }

    private static String readSum(Path tarball) throws IOException {
        Path sum = sumFile(tarball);
        if (!Files.exists(sum)) {
            return null;
        }
        String text = Files.readString(sum, StandardCharsets.US_ASCII).strip();
        int space = text.indexOf(' ');
        return space > 0 ? text.substring(0, space) : text;
    }

    /** The tarball, after checking it against its recorded sha256. */
    Path verified(String name, String id) {
        Path p = file(name, id);
        if (!Files.isRegularFile(p)) {
            throw ProtocolException.notFound("container '" + name + "' has no backup '" + id + "'");
        }
        try {
            String expected = readSum(p);
            if (expected == null) {
                throw new ProtocolException(ErrorCode.CONFLICT, "backup '" + id + "' of '" + name
                        + "' has no checksum file; refusing to restore it");
            }
            MessageDigest sha = sha256();
            try (InputStream in = Files.newInputStream(p); OutputStream sink = new DigestOutputStream(OutputStream.nullOutputStream(), sha)) {
                in.transferTo(sink);
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equalsIgnoreCase(expected)) {
                throw new ProtocolException(ErrorCode.CONFLICT, "backup '" + id + "' of '" + name
                        + "' is corrupted: its sha256 does not match the recorded one; refusing to restore it");
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean delete(String name, String id) {
        Path p = file(name, id);
        try {
            boolean existed = Files.deleteIfExists(p);
            Files.deleteIfExists(sumFile(p));
            return existed;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Keeps the newest {@code keep} backups of a container; returns the ids it removed. */
    List<String> prune(String name) {
        List<Backup> all = list(name);
        List<String> removed = new ArrayList<>();
        for (int i = 0; i < all.size() - keep; i++) {
            delete(name, all.get(i).backup());
            removed.add(all.get(i).backup());
        }
        return removed;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
