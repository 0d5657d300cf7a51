package dev.hostdeploy.protocol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ShutdownTest {
    @Test
    @Timeout(10)
    void signalClosesEachPartInOrderEvenWhenOneFailsThenReleasesMain() throws Exception {
        List<String> closed = new CopyOnWriteArrayList<>();
        Shutdown shutdown = Shutdown.closing(() -> closed.add("server"), () -> {
            closed.add("deploy");
            throw new IllegalStateException("docker went away");
        }, () -> closed.add("lxc"));
        Thread main = new Thread(() -> {
            try {
                shutdown.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        main.start();
        main.join(100);
        assertThat(main.isAlive()).as("main waits for the signal").isTrue();
        shutdown.close(); // what the JVM's hook runs on SIGTERM
        main.join(TimeUnit.SECONDS.toMillis(5));
        assertThat(main.isAlive()).isFalse();
        assertThat(closed).containsExactly("server", "deploy", "lxc");
    }
}
