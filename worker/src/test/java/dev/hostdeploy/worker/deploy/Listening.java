package dev.hostdeploy.worker.deploy;


import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/** Waiting for a daemon a fixture started (git daemon, sshd) to accept connections on a loopback port. */
final class Listening {
    private Listening() {
    }

    /** Returns once {@code process} listens on {@code port}; fails with its log if it exits or takes over 10 s. */
    static void await(String name, Process process, int port, Path log) throws IOException {
        try {
            org.awaitility.Awaitility.await(name + " to listen").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(50))
                    .failFast(name + " exited", () -> !process.isAlive())
                    .until(() -> listens(port));
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            throw new IllegalStateException(name + " did not start: " + Files.readString(log), e);
        }
    }

    /** True once something accepts connections on the loopback port. */
    static boolean listens(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
