package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dockerfile's HEALTHCHECK, run as written: only the jar path becomes this build's classpath and
 * {@code java} this JVM; HOSTDEPLOY_LISTEN is set as the image sets it, to the test's port.
 */
@Timeout(90)
class ManagerHealthcheckTest {
    @TempDir
    Path root;

    static List<String> healthcheck() throws Exception {
        String dockerfile = Files.readString(Path.of("Dockerfile")).replace("\\\n", " ");
        String line = dockerfile.lines().filter(l -> l.startsWith("HEALTHCHECK")).findFirst().orElseThrow();
        JsonNode argv = Json.MAPPER.readTree(line.substring(line.indexOf("CMD") + 3).trim());
        List<String> command = new ArrayList<>();
        argv.forEach(a -> command.add(a.asText()));
        return command;
    }

    static List<String> runnableHere(List<String> command) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < command.size(); i++) {
            String arg = command.get(i);
            if (i == 0 && arg.equals("java")) {
                out.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            } else if (arg.equals("-jar")) {
                out.addAll(List.of("-cp", System.getProperty("java.class.path"), ManagerMain.class.getName()));
                i++;
            } else {
                out.add(arg);
            }
        }
        return out;
    }

    static int run(List<String> command, int port) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("HOSTDEPLOY_LISTEN", "0.0.0.0:" + port);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(out).isTrue();
        System.out.println("healthcheck: " + out.trim());
        return p.exitValue();
    }

    @Test
    void theImagesHealthcheckPassesAgainstARunningManagerAndFailsAgainstAStoppedOne() throws Exception {
        List<String> command = healthcheck();
        // Exec form with a real program: no shell, so nothing depends on what /bin/sh is.
        assertThat(command.get(0)).isEqualTo("java");
        assertThat(command).contains("-jar", "health");
        List<String> here = runnableHere(command);
        int port;
        try (TestManager m = TestManager.start(root)) {
            port = m.manager.port();
            assertThat(run(here, port)).isZero();
        }
        assertThat(run(here, port)).isEqualTo(1);
    }
}
