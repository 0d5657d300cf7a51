package dev.hostdeploy.manager.store;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.MongoDatabaseHandler;
import de.bwaldvogel.mongo.wire.MongoExceptionHandler;
import de.bwaldvogel.mongo.wire.MongoWireMessageEncoder;
import de.bwaldvogel.mongo.wire.MongoWireProtocolHandler;
import de.bwaldvogel.mongo.wire.MongoWireReplyEncoder;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.h2.mvstore.MVStore;

/**
 * The embedded store: mongo-java-server's H2 backend behind mongo-java-server's own wire handlers, served
 * on a unix domain socket inside a private (0700) directory of the data directory instead of a loopback
 * TCP port. The wire server has no authentication, so the file system is the access control: only the
 * Manager's uid can traverse the directory to connect. (MongoServer itself binds TCP only, hence this
 * bootstrap; Netty 4.2's NIO domain socket channel needs no native library.)
 *
 * <p>Writes are committed to the H2 file before the reply leaves (see {@link DurableBackend}), so what
 * the API acknowledged survives a kill -9. A lock file keeps a second process (a second Manager, or
 * {@code db export}) off a data directory in use.
 */
final class EmbeddedServer implements AutoCloseable {
    static final String LOCK_FILE = "store.lock";
    static final String SOCKET_DIR = "store";
    static final String SOCKET_FILE = "mongo.sock";
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    /**
     * Bench and test switch only: {@code -Dhostdeploy.store.commit=deferred} restores the old policy (H2's
     * background commit about once a second, losing the last second of acknowledged writes on a crash) so
     * the cost of committing each write can be measured.
     */
    static final String COMMIT_PROPERTY = "hostdeploy.store.commit";

    private final FileChannel lockChannel;
    private final FileLock lock;
    private final H2Backend backend;
    private final Path socket;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ChannelGroup clients;
    private final Channel listener;
    /** A private directory holding a lower-case link to the socket, when the socket's own path is not. */
    private volatile Path linkDir;

    private EmbeddedServer(FileChannel lockChannel, FileLock lock, H2Backend backend, Path socket,
                           EventLoopGroup boss, EventLoopGroup workers, ChannelGroup clients, Channel listener) {
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.backend = backend;
        this.socket = socket;
        this.boss = boss;
        this.workers = workers;
        this.clients = clients;
        this.listener = listener;
    }

    static EmbeddedServer start(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        FileChannel lockChannel = FileChannel.open(ownerOnlyFile(dataDir.resolve(LOCK_FILE)), StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("the data directory " + dataDir + " is in use by another process (a running "
                    + "Manager holds " + LOCK_FILE + "); stop it first");
        }
        Path socket = privateDirectory(dataDir.resolve(SOCKET_DIR)).resolve(SOCKET_FILE).toAbsolutePath();
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            closeQuietly(lockChannel);
            throw new IOException("the data directory path is too long for the store's unix socket ("
                    + socket + " is over " + MAX_SOCKET_PATH + " bytes); use a shorter --data-dir");
        }
        // Left over from a killed process; the lock above proves nobody serves it.
        Files.deleteIfExists(socket);

        H2Backend backend = null;
        EventLoopGroup boss = null;
        EventLoopGroup workers = null;
        try {
            // H2 would create it with the umask's mode; the data directory may be readable by others.
            backend = DurableBackend.open(ownerOnlyFile(dataDir.resolve(Database.EMBEDDED_FILE)),
                    !"deferred".equals(System.getProperty(COMMIT_PROPERTY)));
            boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("store-boss", true),
                    NioIoHandler.newFactory());
            workers = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("store-worker", true),
                    NioIoHandler.newFactory());
            ChannelGroup clients = new DefaultChannelGroup("store-clients", workers.next());
            MongoBackend served = backend;
            Channel listener = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            // The same pipeline MongoServer.bind builds, minus TLS.
                            ch.pipeline().addLast(new MongoWireReplyEncoder());
                            ch.pipeline().addLast(new MongoWireMessageEncoder());
                            ch.pipeline().addLast(new MongoWireProtocolHandler());
                            ch.pipeline().addLast(new MongoDatabaseHandler(served, clients));
                            ch.pipeline().addLast(new MongoExceptionHandler());
                        }
                    })
                    .bind(UnixDomainSocketAddress.of(socket)).syncUninterruptibly().channel();
            // The directory already keeps others out; the socket's own mode says so too.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            return new EmbeddedServer(lockChannel, lock, backend, socket, boss, workers, clients, listener);
        } catch (RuntimeException | IOException e) {
            if (boss != null) {
                boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            if (workers != null) {
                workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            if (backend != null) {
                backend.close();
            }
            closeQuietly(lockChannel);
            throw e;
        }
    }

    /** Creates the directory owner-only, or makes an existing one so (an older install may have 0755). */
    private static Path privateDirectory(Path dir) throws IOException {
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rwx------");
        if (Files.isSymbolicLink(dir)) {
            throw new IOException(dir + " is a symbolic link; the store's socket directory must be a real directory");
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(ownerOnly));
        }
        Files.setPosixFilePermissions(dir, ownerOnly);
        return dir;
    }

    /**
     * Creates the file 0600 before anyone writes to it (H2 takes an empty file as a new store), or makes
     * an existing one so; a mode changed after the fact would not close a descriptor opened in between.
     */
    private static Path ownerOnlyFile(Path file) throws IOException {
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
        }
        Files.setPosixFilePermissions(file, ownerOnly);
        return file;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // Already failing; the original error matters.
        }
    }

    /** The driver's connection string: a host ending in .sock is a unix socket (needs jnr-unixsocket). */
    String connectionString() throws IOException {
        return "mongodb://" + URLEncoder.encode(driverPath().toString(), StandardCharsets.UTF_8);
    }

    /**
     * The MongoDB driver lower-cases every server address, unix socket paths included, so a data
     * directory with a capital letter would name a socket that does not exist. Such a socket is reached
     * through a link in a fresh 0700 directory of the system's temporary directory (whose name is lower
     * case); connecting through it still needs search rights on the socket's own 0700 directory.
     */
    private synchronized Path driverPath() throws IOException {
        String path = socket.toString();
        if (path.equals(path.toLowerCase(java.util.Locale.ENGLISH))) {
            return socket;
        }
        if (linkDir == null) {
            linkDir = Files.createTempDirectory("hostdeploy-store",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createSymbolicLink(linkDir.resolve(SOCKET_FILE), socket);
        }
        Path link = linkDir.resolve(SOCKET_FILE).toAbsolutePath();
        if (!link.toString().equals(link.toString().toLowerCase(java.util.Locale.ENGLISH))) {
            throw new IOException("the store's socket path " + socket + " has capital letters, which the MongoDB "
                    + "driver lower-cases, and so has the temporary directory " + linkDir + "; use a lower-case --data-dir");
        }
        return link;
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        clients.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        // Closing the MVStore writes whatever is left.
        backend.close();
        try {
            Files.deleteIfExists(socket);
            if (linkDir != null) {
                Files.deleteIfExists(linkDir.resolve(SOCKET_FILE));
                Files.deleteIfExists(linkDir);
            }
        } catch (IOException ignored) {
            // A stale socket is removed on the next start; a stale link dir is only a name in /tmp.
        }
        closeQuietly(lock);
        closeQuietly(lockChannel);
    }

    /**
     * The H2 backend (in the Manager's layout, {@link IndexedH2Backend}: an older Manager's store has its
     * indexes rebuilt here, before the socket is served) that commits the MVStore after every message that
     * changed it, before the reply is written. Messages run concurrently under a shared lock; the commit takes it exclusively, so a
     * commit never captures another request's half-applied write (document without its index entry),
     * and concurrent writers share one commit (group commit). The commit writes to the file without
     * fsync: it survives the process dying (kill -9, OOM), not the machine losing power mid-write.
     */
    static final class DurableBackend extends IndexedH2Backend {
        private final MVStore store;
        private final boolean commitEachWrite;
        private final ReadWriteLock lock = new ReentrantReadWriteLock();

        private DurableBackend(MVStore store, boolean commitEachWrite) {
            super(store);
            this.store = store;
            this.commitEachWrite = commitEachWrite;
        }

        static DurableBackend open(Path file, boolean commitEachWrite) {
            MVStore.Builder builder = new MVStore.Builder().fileName(file.toString());
            if (commitEachWrite) {
                // Only our commits, at message boundaries: neither H2's background one nor the one it
                // runs on a writing thread when unsaved memory grows, both of which can land mid-write.
                builder.autoCommitDisabled();
            }
            return new DurableBackend(builder.open(), commitEachWrite);
        }

        @Override
        public Document handleMessage(MongoMessage message) {
            if (!commitEachWrite) {
                return super.handleMessage(message);
            }
            lock.readLock().lock();
            try {
                return super.handleMessage(message);
            } finally {
                lock.readLock().unlock();
                // A failed write (duplicate key in a multi-document insert) may still have changed things.
                if (store.hasUnsavedChanges()) {
                    lock.writeLock().lock();
                    try {
                        store.commit();
                    } finally {
                        lock.writeLock().unlock();
                    }
                }
            }
        }
    }
}
