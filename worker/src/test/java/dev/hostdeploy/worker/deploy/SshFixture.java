package dev.hostdeploy.worker.deploy;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway sshd on loopback (its own host key and config) that lets in one public key, standing in for
 * GitHub's SSH endpoint: git runs {@code git-upload-pack} on the bare repos under {@link #root}.
 */
public final class SshFixture implements AutoCloseable {
    final int port;
    final Path authorizedKeys;
    private final Process sshd;
    private final Path log;

    SshFixture(Path dir) throws Exception {
        this(dir, freePort());
    }

    /** On a port chosen beforehand, for a Worker configured (with {@link #sshBase(int, Path)}) before sshd runs. */
    public SshFixture(Path dir, int port) throws Exception {
        Files.createDirectories(dir);
        Path hostKey = dir.resolve("host_key");
        keygen(hostKey);
        this.authorizedKeys = dir.resolve("authorized_keys");
        Files.writeString(authorizedKeys, "");
        this.log = dir.resolve("sshd.log");
        this.port = port;
        Path config = dir.resolve("sshd_config");
        Files.writeString(config, String.join("\n", "ListenAddress 127.0.0.1", "Port " + port, "HostKey " + hostKey,
                "PidFile " + dir.resolve("sshd.pid"), "AuthorizedKeysFile " + authorizedKeys,
                "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "") );
        Files.createDirectories(Path.of("/run/sshd"));
        sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Listening.await("sshd", sshd, port, log);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The --git-ssh-base that reaches ORG/NAME.git under {@code root} as the current (root) user. */
    String sshBase(Path root) {
        return sshBase(port, root);
    }

    public static String sshBase(int port, Path root) {
        return "ssh://" + System.getProperty("user.name") + "@127.0.0.1:" + port + root.toAbsolutePath() + "/";
    }

    /** A new ed25519 key pair: the OpenSSH private key text and the public key line. */
    static String[] newKey(Path dir, String name) throws Exception {
        Path file = dir.resolve(name);
        keygen(file);
        return new String[] {Files.readString(file), Files.readString(dir.resolve(name + ".pub")).trim()};
    }

    public void authorize(String publicKey) throws IOException {
        Files.writeString(authorizedKeys, publicKey + "\n");
    }

    private static void keygen(Path file) throws Exception {
        Process p = new ProcessBuilder(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test",
                "-f", file.toString())).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("ssh-keygen failed: " + out);
        }
    }

    @Override
    public void close() throws Exception {
        sshd.destroy();
        sshd.waitFor(5, TimeUnit.SECONDS);
    }
}
