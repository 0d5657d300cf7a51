package dev.hostdeploy.manager;

import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.deploy.GitHubFixture;
import dev.hostdeploy.worker.deploy.TestImages;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Manager's deploy tests' site and its Docker leftovers; "GitHub" itself is the Worker's
 * {@code GitHubFixture} and the image its {@code TestImages}, from the Worker's test-jar.
 */
final class SiteFixture {
    private SiteFixture() {
    }

    /**
     * A busybox httpd site whose index.html says {@code content}, published on all interfaces on a port
     * Docker picks; {@code buildSeconds} makes its build take that long (a deploy to interrupt).
     */
    static Map<String, String> site(String content, int buildSeconds) {
        return Map.of(
                "docker-compose.yml", """
                        version: "2.4"
                        services:
                          web:
                            build: .
                            stop_signal: SIGKILL
                            ports:
                              - "8080"
                            environment:
                              - GREETING
                            healthcheck:
                              test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]
                              interval: 1s
                              timeout: 2s
                              retries: 20
                        """,
                "Dockerfile", "FROM " + TestImages.BUSYBOX + "\nCOPY index.html /www/index.html\n"
                        + (buildSeconds > 0 ? "RUN sleep " + buildSeconds + "\n" : "")
                        + "CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
                "index.html", content + "\n");
    }

    /**
     * The Worker's deploy options for these sites: cloned from {@code github}, org "acme" allowed, and
     * time for a health check on a busy machine.
     */
    static DeployOptions deployOptions(GitHubFixture github) {
        return new DeployOptions().gitBaseUrl(github.baseUrl()).allowedOrgs(List.of("acme"))
                .healthTimeout(Duration.ofSeconds(40));
    }

    /** Removes what a test deployed under {@code project}, whatever state the test left it in. */
    static void removeProject(String project) throws Exception {
        Process ps = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project)
                .start();
        String ids = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        ps.waitFor(30, TimeUnit.SECONDS);
        if (!ids.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("docker", "rm", "-f"));
            cmd.addAll(List.of(ids.split("\\s+")));
            run(cmd);
        }
        // Compose's networks too: left behind, each takes one of dockerd's ~30 default address pools.
        Process nets = new ProcessBuilder("docker", "network", "ls", "-q", "--filter",
                "label=com.docker.compose.project=" + project).start();
        String netIds = new String(nets.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        nets.waitFor(30, TimeUnit.SECONDS);
        if (!netIds.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("docker", "network", "rm"));
            cmd.addAll(List.of(netIds.split("\\s+")));
            run(cmd);
        }
        run(List.of("docker", "rmi", "-f", project + "_web", project + "-web"));
    }

    static String dockerPs(String project) throws Exception {
        Process ps = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project)
                .start();
        String out = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        ps.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    static int run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    /** What a command prints (both streams); fails unless it exits 0. */
    static String output(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
