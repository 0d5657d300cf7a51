package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.client.model.Filters;
import dev.hostdeploy.manager.store.Store;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import org.bson.BsonBinaryWriter;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded wire server has no authentication, so who can connect to it is who can become admin.
 * A process of another uid tries every way in this JVM offers: each listening TCP socket it owns, each
 * socket file under the data directory, and reading each file there (the H2 file is the store too).
 */
@Timeout(60)
class EmbeddedStoreAccessTest {
    static final int NOBODY = 65534;
    /** The system interpreter: one under root's home (pyenv) is not executable by another uid. */
    static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path root;

    @Test
    void anotherLocalUserCanNeitherConnectToNorWriteTheEmbeddedStore() throws Exception {
        // The worst case an admin may have made: a data directory any local user can list.
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path data = Files.createDirectory(root.resolve("data"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        try (Store store = Store.open(null, "hostdeploy", data)) {
            List<String> targets = new ArrayList<>();
            for (int port : listeningTcpPortsOfThisProcess()) {
                targets.add("tcp:" + port);
            }
            try (Stream<Path> files = Files.walk(data)) {
                files.filter(p -> !Files.isDirectory(p))
                        .forEach(p -> targets.add((Files.isRegularFile(p) ? "file:" : "unix:") + p));
            }
            assertThat(targets).contains("file:" + data.resolve("mongo.mv.db"));
            assertThat(targets).as("the store must be served somewhere").isNotEmpty();

            String out = asNobody(insertAdminToken(), targets);

            assertThat(out).doesNotContain("answered");
            assertThat(store.database().collection("tokens").find(Filters.eq("_id", "forged")).first()).isNull();
            // The Manager itself still reads and writes its store.
            store.database().collection("tokens").insertOne(new Document("_id", "real"));
            assertThat(store.database().collection("tokens").countDocuments()).isEqualTo(1);
        }
    }

    @Test
    void theStoreIsServedOnAUnixSocketInAnOwnerOnlyDirectoryAndNoTcpPort() throws Exception {
        List<Integer> before = listeningTcpPortsOfThisProcess();
        try (Store store = Store.open(null, "hostdeploy", root.resolve("data"))) {
            Path socket = store.database().embeddedSocket();
            assertThat(socket).startsWith(root.resolve("data"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
                    .isEqualTo("rwx------");
            assertThat(listeningTcpPortsOfThisProcess()).containsExactlyInAnyOrderElementsOf(before);
            String out = asNobody(insertAdminToken(), List.of("unix:" + socket));
            assertThat(out).contains("refused " + socket + ": PermissionError");
        }
    }

    @Test
    void aSecondProcessCannotOpenADataDirectoryInUse() throws Exception {
        try (Store store = Store.open(null, "hostdeploy", root)) {
            assertThatThrownBy(() -> Store.open(null, "hostdeploy", root))
                    .hasMessageContaining("in use by another process");
        }
        // Released on close.
        Store.open(null, "hostdeploy", root).close();
    }

    /** An OP_MSG inserting a token for admin into hostdeploy.tokens, as the attacker sent it. */
    static byte[] insertAdminToken() {
        BsonDocument body = new BsonDocument("insert", new BsonString("tokens"))
                .append("documents", new BsonArray(List.of(new BsonDocument("_id", new BsonString("forged"))
                        .append("userId", new BsonString("admin")).append("hash", new BsonString("x")))))
                .append("$db", new BsonString("hostdeploy"));
        BasicOutputBuffer bson = new BasicOutputBuffer();
        new BsonDocumentCodec().encode(new BsonBinaryWriter(bson), body, EncoderContext.builder().build());
        byte[] doc = bson.toByteArray();
        ByteBuffer msg = ByteBuffer.allocate(16 + 4 + 1 + doc.length).order(ByteOrder.LITTLE_ENDIAN);
        msg.putInt(msg.capacity()).putInt(1).putInt(0).putInt(2013).putInt(0).put((byte) 0).put(doc);
        return msg.array();
    }

    /**
     * Runs a python3 client as uid/gid 65534 with no supplementary groups: for each target it connects,
     * sends the message and prints whether the server answered or the connection was refused.
     */
    static String asNobody(byte[] message, List<String> targets) throws IOException, InterruptedException {
        String script = String.join("\n",
                "import socket, sys",
                "msg = bytes.fromhex(sys.argv[1])",
                "for t in sys.argv[2:]:",
                "    kind, where = t.split(':', 1)",
                "    try:",
                "        if kind == 'file':",
                "            print('answered ' + where, len(open(where, 'rb').read(4096)))",
                "            continue",
                "        if kind == 'tcp':",
                "            s = socket.create_connection(('127.0.0.1', int(where)), timeout=3)",
                "        else:",
                "            s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(where)",
                "        s.sendall(msg)",
                "        reply = s.recv(65536)",
                "        print(('answered ' if reply else 'closed ') + where, len(reply))",
                "    except Exception as e:",
                "        print('refused ' + where + ': ' + type(e).__name__)",
                "");
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", PYTHON, "-c", script, HexFormat.of().formatHex(message)));
        cmd.addAll(targets);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        assertThat(text.lines().count()).as(text).isEqualTo(targets.size());
        return text;
    }

    /** Listening TCP ports whose socket inode is one of this process's file descriptors. */
    static List<Integer> listeningTcpPortsOfThisProcess() throws IOException {
        List<String> inodes = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        inodes.add(link.substring(8, link.length() - 1));
                    }
                } catch (IOException gone) {
                    // Closed while listing.
                }
            }
        }
        List<Integer> ports = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                // f[1] local address:port (hex), f[3] state (0A = LISTEN), f[9] inode.
                if (f[3].equals("0A") && inodes.contains(f[9])) {
                    ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }
}
