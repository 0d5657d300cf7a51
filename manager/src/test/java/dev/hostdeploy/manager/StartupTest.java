package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A start that cannot succeed leaves nothing behind: options are checked and the port bound first. */
@Timeout(60)
class StartupTest {
    @TempDir
    Path root;

    private long filesUnder(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.count() - 1;
        }
    }

    @Test
    void aBusyPortLeavesNoDataDirectoryAndNoIdentity() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ManagerConfig config = TestManager.config(root)
                    .listen(new InetSocketAddress("127.0.0.1", busy.getLocalPort()));
            assertThatThrownBy(() -> Manager.start(config))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot listen on 127.0.0.1:" + busy.getLocalPort());
        }
        assertThat(root.resolve("data")).doesNotExist();
        assertThat(root.resolve("identity")).doesNotExist();
        assertThat(filesUnder(root)).isZero();
    }

    @Test
    void aTooShortBootstrapTokenLeavesNoDataDirectory() throws Exception {
        assertThatThrownBy(() -> Manager.start(TestManager.config(root).bootstrapToken("short")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HOSTDEPLOY_BOOTSTRAP_TOKEN");
        assertThat(filesUnder(root)).isZero();
    }

    @Test
    void aMalformedMongoUriLeavesNoDataDirectory() throws Exception {
        assertThatThrownBy(() -> Manager.start(TestManager.config(root).mongoUri("postgres://nope")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(filesUnder(root)).isZero();
    }

    @Test
    void theSamePortIsFreeAgainAfterAFailedStart() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        ManagerConfig bad = TestManager.config(root.resolve("a")).bootstrapToken("short")
                .listen(new InetSocketAddress("127.0.0.1", port));
        assertThatThrownBy(() -> Manager.start(bad)).isInstanceOf(IllegalArgumentException.class);
        try (TestManager m = TestManager.start(root.resolve("b"), c -> c.listen(new InetSocketAddress("127.0.0.1", port)))) {
            assertThat(m.get("/health", null).status()).isEqualTo(200);
        }
    }
}
