package dev.hostdeploy.bench.deploy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the deploy benchmarks ({@link DeployBench}, {@code WebhookBench}) stand on, in one place so both
 * measure against the same setup: a git daemon on loopback serving bare repos (GitHub's stand-in), the
 * busybox image imported without a registry, repos of a one-service busybox site, compose projects run by
 * hand, and the cleanup of all of it, plus the process and timing helpers.
 */
public final class GitAndCompose implements AutoCloseable {
    public static final String IMAGE = "hostdeploy-bench/busybox:1";
    /** The site's image: busybox httpd serving the repo's index.html on 8080. */
    private static final String DOCKERFILE = """
            FROM hostdeploy-bench/busybox:1
            COPY index.html /www/index.html
            CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
            """;

    private final Path dir;
    private final List<String> composeCmd;
    private final List<String> projects = new ArrayList<>();
    private Process daemon;
    private int gitPort;

    /** Works under {@code dir} (removed on close); uses {@code docker compose} when there, else {@code docker-compose}. */
    public GitAndCompose(Path dir) throws Exception {
        this.dir = dir;
        this.composeCmd = run(List.of("docker", "compose", "version"), null) == 0
                ? List.of("docker", "compose") : List.of("docker-compose");
    }

    public Path dir() {
        return dir;
    }

    public List<String> composeCmd() {
        return composeCmd;
    }

    public int gitPort() {
        return gitPort;
    }

    /** The git daemon's base URL, {@code git://127.0.0.1:PORT}. */
    public String gitUrl() {
        return "git://127.0.0.1:" + gitPort;
    }

    /** The bare repository {@code org/name} the daemon serves. */
    public Path bareRepo(String repo) {
        return dir.resolve("github/" + repo + ".git");
    }

    /** A compose project to remove (containers, image, network) on close. */
    public void project(String name) {
        projects.add(name);
    }

    public void startGitDaemon() throws Exception {
        Path base = Files.createDirectories(dir.resolve("github"));
        gitPort = freePort();
        // No connection limit: past its default 32, git daemon drops the oldest client, and repo.head x100
        // asks for 100 at once.
        daemon = new ProcessBuilder("git", "daemon", "--base-path=" + base, "--export-all", "--reuseaddr",
                "--max-connections=0", "--listen=127.0.0.1", "--port=" + gitPort, base.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("git-daemon.log").toFile()).start();
        for (int i = 0; i < 200; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", gitPort), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("git daemon did not start");
    }

    /** busybox-static imported as an image: no registry is needed. */
    public void ensureImage() throws Exception {
        if (run(List.of("docker", "image", "inspect", IMAGE), null) == 0) {
            return;
        }
        Path root = Files.createDirectories(dir.resolve("rootfs"));
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        Process list = new ProcessBuilder("/bin/busybox", "--list").start();
        for (String applet : new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(bin.resolve(applet.trim()), Path.of("busybox"));
            }
        }
        Files.createDirectories(root.resolve("www"));
        Process tar = new ProcessBuilder("tar", "-C", root.toString(), "-c", ".").start();
        Process imp = new ProcessBuilder("docker", "import", "-", IMAGE).redirectErrorStream(true).start();
        try (var in = tar.getInputStream(); var out = imp.getOutputStream()) {
            in.transferTo(out);
        }
        check(imp.waitFor(60, TimeUnit.SECONDS) ? imp.exitValue() : -1, "docker import");
    }

    /**
     * A bare repo {@code org/name} for the daemon and a work tree pushing to it, holding {@code compose} as
     * docker-compose.yml and the site's Dockerfile. Returns the work tree.
     */
    public Path createRepo(String repo, String compose) throws Exception {
        Path bare = bareRepo(repo);
        Files.createDirectories(bare.getParent());
        check(run(List.of("git", "init", "--quiet", "--bare", "--initial-branch=main", bare.toString()), null), "init");
        Path tree = dir.resolve("work/" + repo);
        check(run(List.of("git", "init", "--quiet", "--initial-branch=main", tree.toString()), null), "init");
        check(run(List.of("git", "-C", tree.toString(), "remote", "add", "origin", bare.toString()), null), "remote");
        Files.writeString(tree.resolve("docker-compose.yml"), compose);
        Files.writeString(tree.resolve("Dockerfile"), DOCKERFILE);
        return tree;
    }

    /** Commits {@code content} as index.html and pushes it to main. */
    public static void push(Path tree, String content) throws Exception {
        Files.writeString(tree.resolve("index.html"), content + "\n");
        check(run(List.of("git", "-C", tree.toString(), "add", "-A"), null), "add");
        check(run(List.of("git", "-C", tree.toString(), "-c", "user.name=b", "-c", "user.email=b@example.org",
                "commit", "--quiet", "-m", content), null), "commit");
        check(run(List.of("git", "-C", tree.toString(), "push", "--quiet", "origin", "HEAD:refs/heads/main"), null),
                "push");
    }

    /** By hand: {@code compose -p PROJECT up -d --build} in the checkout. */
    public void composeUp(String project, Path checkout) throws Exception {
        List<String> cmd = new ArrayList<>(composeCmd);
        cmd.addAll(List.of("-p", project, "up", "-d", "--build"));
        check(run(cmd, checkout), "compose up");
    }

    /** By hand: clones the daemon's {@code org/name} into {@code checkout}. */
    public void cloneRepo(String repo, Path checkout) throws Exception {
        check(run(List.of("git", "clone", "--quiet", gitUrl() + "/" + repo + ".git", checkout.toString()), null), "clone");
    }

    /** By hand, what a redeploy does: {@code git fetch}, {@code git checkout} of main, then {@link #composeUp}. */
    public void updateByHand(String project, Path checkout) throws Exception {
        check(run(List.of("git", "-C", checkout.toString(), "fetch", "--quiet", "origin"), null), "fetch");
        check(run(List.of("git", "-C", checkout.toString(), "checkout", "--quiet", "--detach", "origin/main"), null),
                "checkout");
        composeUp(project, checkout);
    }

    public void composeDown(String project, Path checkout) throws Exception {
        List<String> cmd = new ArrayList<>(composeCmd);
        cmd.addAll(List.of("-p", project, "down", "-v", "--rmi", "local"));
        run(cmd, checkout);
    }

    /** Removes the projects' containers, images and networks, stops the daemon and deletes the directory. */
    @Override
    public void close() throws Exception {
        for (String p : projects) {
            Process ps = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + p).start();
            String ids = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!ids.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("docker", "rm", "-f"));
                rm.addAll(Arrays.asList(ids.split("\\s+")));
                run(rm, null);
            }
            run(List.of("docker", "rmi", "-f", p + "_web", p + "-web"), null);
            run(List.of("docker", "network", "rm", p + "_default"), null);
        }
        if (daemon != null) {
            daemon.descendants().forEach(ProcessHandle::destroy);
            daemon.destroy();
        }
        run(List.of("rm", "-rf", dir.toString()), null);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs a command (output discarded, 5 minutes at most); its exit code, -1 when it took too long. */
    public static int run(List<String> cmd, Path cwd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    public static void check(int exit, String what) {
        if (exit != 0) {
            throw new IllegalStateException(what + " failed (exit " + exit + ")");
        }
    }

    public static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    public static long median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
