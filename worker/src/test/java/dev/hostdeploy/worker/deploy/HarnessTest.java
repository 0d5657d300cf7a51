package dev.hostdeploy.worker.deploy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Gives each test class one {@link Harness} over a fresh temp dir; it removes what it deployed. */
abstract class HarnessTest {
    @TempDir
    static Path dir;
    static Harness h;

    @BeforeAll
    static void startHarness() throws Exception {
        h = new Harness(dir);
    }

    @AfterAll
    static void stopHarness() throws Exception {
        if (h != null) {
            h.close();
            h = null;
        }
    }
}
