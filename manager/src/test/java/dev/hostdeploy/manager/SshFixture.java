package dev.hostdeploy.manager;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway sshd on loopback (own host key and config) letting in the keys of {@link #authorize}: a
 * stand-in for GitHub's SSH endpoint, serving the bare repos under an absolute path via git-upload-pack.
 */
final class SshFixture implements AutoCloseable {
    private final Path authorizedKeys;
    private final Process sshd;

    SshFixture(Path dir, int port) throws Exception {
        Files.createDirectories(dir);
        Path hostKey = dir.resolve("host_key");
        Process keygen = new ProcessBuilder(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                hostKey.toString())).redirectErrorStream(true).start();
        keygen.getInputStream().readAllBytes();
        if (keygen.waitFor() != 0) {
            throw new IllegalStateException("ssh-keygen failed");
        }
        authorizedKeys = dir.resolve("authorized_keys");
        Files.writeString(authorizedKeys, "");
        Path log = dir.resolve("sshd.log");
        Path config = dir.resolve("sshd_config");
        Files.writeString(config, String.join("\n", "ListenAddress 127.0.0.1", "Port " + port, "HostKey " + hostKey,
                "PidFile " + dir.resolve("sshd.pid"), "AuthorizedKeysFile " + authorizedKeys,
                "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", ""));
        Files.createDirectories(Path.of("/run/sshd"));
        sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !sshd.isAlive()) {
                    throw new IllegalStateException("sshd did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        }
    }

    /** The Worker's --git-ssh-base reaching ORG/NAME.git under {@code repos} as the current user. */
    static String sshBase(int port, Path repos) {
        return "ssh://" + System.getProperty("user.name") + "@127.0.0.1:" + port + repos.toAbsolutePath() + "/";
    }

    void authorize(String publicKey) throws IOException {
        Files.writeString(authorizedKeys, publicKey + "\n");
    }

    @Override
    public void close() throws Exception {
        sshd.destroy();
        sshd.waitFor(5, TimeUnit.SECONDS);
    }
}
