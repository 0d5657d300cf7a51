package dev.hostdeploy.manager;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * "GitHub" for the Manager's deploy tests (as the Worker's tests have it): {@code git daemon} on
 * 127.0.0.1 serving bare repositories ORG/NAME.git, and the busybox test image built locally.
 */
final class GitFixture implements AutoCloseable {
    static final String BUSYBOX = "hostdeploy-test/busybox:1";

    final Path base;
    final Path work;
    final int port;
    private final Process daemon;

    GitFixture(Path dir) throws Exception {
        this.base = Files.createDirectories(dir.resolve("github"));
        this.work = Files.createDirectories(dir.resolve("work"));
        Path log = dir.resolve("git-daemon.log");
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        daemon = new ProcessBuilder("git", "daemon", "--base-path=" + base, "--export-all", "--reuseaddr",
                "--informative-errors", "--listen=127.0.0.1", "--port=" + port, base.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !daemon.isAlive()) {
                    throw new IllegalStateException("git daemon did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        }
    }

    String baseUrl() {
        return "git://127.0.0.1:" + port;
    }

    /** Creates ORG/NAME.git (default branch main) and a work tree to commit from. */
    Repo create(String repo) throws Exception {
        Path bare = base.resolve(repo + ".git");
        Files.createDirectories(bare.getParent());
        git(null, "init", "--quiet", "--bare", "--initial-branch=main", bare.toString());
        Path tree = work.resolve(repo.replace('/', '_'));
        git(null, "init", "--quiet", "--initial-branch=main", tree.toString());
        git(tree, "remote", "add", "origin", bare.toString());
        return new Repo(tree);
    }

    record Repo(Path tree) {
        /** Writes the files, commits and pushes main; returns the commit. */
        String push(String message, Map<String, String> files) throws Exception {
            for (var e : files.entrySet()) {
                Files.writeString(tree.resolve(e.getKey()), e.getValue());
            }
            git(tree, "add", "-A");
            git(tree, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "--allow-empty",
                    "-m", message);
            git(tree, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/main");
            return git(tree, "rev-parse", "HEAD").trim();
        }
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
                "Dockerfile", "FROM " + BUSYBOX + "\nCOPY index.html /www/index.html\n"
                        + (buildSeconds > 0 ? "RUN sleep " + buildSeconds + "\n" : "")
                        + "CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
                "index.html", content + "\n");
    }

    static synchronized void ensureBusybox() throws Exception {
        if (run(List.of("docker", "image", "inspect", BUSYBOX)) == 0) {
            return;
        }
        Path root = Files.createTempDirectory("busybox-rootfs");
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        Process list = new ProcessBuilder("/bin/busybox", "--list").start();
        for (String applet : new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(bin.resolve(applet.trim()), Path.of("busybox"));
            }
        }
        for (String d : List.of("www", "tmp", "data")) {
            Files.createDirectories(root.resolve(d));
        }
        Process tar = new ProcessBuilder("tar", "-C", root.toString(), "-c", ".").start();
        Process imp = new ProcessBuilder("docker", "import", "-", BUSYBOX).redirectErrorStream(true).start();
        try (var in = tar.getInputStream(); var out = imp.getOutputStream()) {
            in.transferTo(out);
        }
        if (!imp.waitFor(60, TimeUnit.SECONDS) || imp.exitValue() != 0) {
            throw new IllegalStateException("docker import failed");
        }
        run(List.of("rm", "-rf", root.toString()));
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

    static String git(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        if (dir != null) {
            cmd.add("-C");
            cmd.add(dir.toString());
        }
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() {
        daemon.descendants().forEach(ProcessHandle::destroy);
        daemon.destroy();
    }
}
