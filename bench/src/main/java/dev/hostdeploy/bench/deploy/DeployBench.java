package dev.hostdeploy.bench.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * deploy.sync over the real protocol (first deploy, redeploy on change, unchanged) against doing the same
 * by hand ({@code git clone} / {@code git fetch && git checkout} + {@code docker-compose up -d --build}),
 * and repo.head for 100 repositories. Targets: overhead <= 10% + 300 ms; unchanged sync <= 100 ms;
 * repo.head x100 <= 2 s. Needs root, dockerd, git, docker-compose (or the docker compose plugin).
 *
 * <p>Usage: {@code DeployBench [rounds]} (default 3; the median of the rounds is reported).
 */
public final class DeployBench {
    private static final String IMAGE = "hostdeploy-bench/busybox:1";
    /** No healthcheck, so "by hand" (compose returns once containers start) and deploy.sync wait alike. */
    private static final String COMPOSE = """
            version: "2.4"
            services:
              web:
                build: .
                stop_signal: SIGKILL
                ports:
                  - "127.0.0.1::8080"
            """;
    private static final String DOCKERFILE = """
            FROM hostdeploy-bench/busybox:1
            COPY index.html /www/index.html
            CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
            """;

    private final Path dir;
    private final List<String> composeCmd;
    private final List<String> projects = new ArrayList<>();
    private int gitPort;
    private Process daemon;

    private DeployBench(Path dir) throws Exception {
        this.dir = dir;
        this.composeCmd = run(List.of("docker", "compose", "version"), null, false) == 0
                ? List.of("docker", "compose") : List.of("docker-compose");
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path dir = Files.createTempDirectory("deploy-bench");
        DeployBench b = new DeployBench(dir);
        try {
            b.runAll(rounds);
        } finally {
            b.cleanup();
        }
    }

    private void runAll(int rounds) throws Exception {
        ensureImage();
        startGitDaemon();
        String url = "git://127.0.0.1:" + gitPort;
        DeployOptions options = new DeployOptions().deployRoot(dir.resolve("deploy")).gitBaseUrl(url)
                .allowedOrgs(List.of("bench")).maxParallel(4);
        Identity workerId = Identity.generate("worker");
        Identity managerId = Identity.generate("manager");
        HandlerRegistry registry = new HandlerRegistry();
        try (DeployModule module = DeployModule.create(options)) {
            module.register(registry);
            AgentServer server = AgentServer.builder(workerId, TrustPolicy.exactly(List.of(managerId.fingerprint())),
                    registry).listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("bench").build();
            server.start();
            try (AgentClient client = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH),
                    managerId, TrustPolicy.exactly(List.of(workerId.fingerprint())))
                    .requestTimeout(Duration.ofMinutes(5)).build()) {
                client.start();
                if (!client.awaitConnected(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("manager could not connect to the worker");
                }
                measure(rounds, client, url);
            } finally {
                server.close();
            }
        }
    }

    private void measure(int rounds, AgentClient client, String url) throws Exception {
        long[][] ours = new long[3][rounds];
        long[][] hand = new long[3][rounds];
        // One warm-up of each path, so JIT, TLS and compose's Python start-up are not in round one only.
        oneRound(client, url, "warm", new long[3][1], new long[3][1], 0);
        for (int r = 0; r < rounds; r++) {
            oneRound(client, url, "r" + r, ours, hand, r);
        }
        // repo.head: 100 repositories polled at once, as the Manager's poller would
        Path template = createRepo("bench/head-0");
        push(template, "x");
        for (int i = 1; i < 100; i++) {
            copyTree(dir.resolve("github/bench/head-0.git"), dir.resolve("github/bench/head-" + i + ".git"));
        }
        long headMs = Long.MAX_VALUE;
        long handHeadMs = Long.MAX_VALUE;
        for (int r = 0; r < Math.max(2, rounds); r++) {
            long t0 = System.nanoTime();
            List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                calls.add(client.call("repo.head", Map.of("repo", "bench/head-" + i, "ref", "main")));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(1, TimeUnit.MINUTES);
            headMs = Math.min(headMs, ms(t0));
            t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                check(run(List.of("git", "ls-remote", url + "/bench/head-" + i + ".git", "main"), null, false), "ls-remote");
            }
            handHeadMs = Math.min(handHeadMs, ms(t0));
        }

        System.out.printf("%nhostdeploy deploy benchmark: %d rounds (median), compose = %s, over the mTLS protocol%n%n",
                rounds, String.join(" ", composeCmd));
        System.out.printf("%-26s %12s %12s %26s %6s%n", "case", "deploy.sync", "by hand", "target", "met");
        String[] cases = {"first deploy", "redeploy on change", "unchanged sync"};
        for (int c = 0; c < 3; c++) {
            long o = median(ours[c]);
            long hd = median(hand[c]);
            long target = c < 2 ? Math.round(hd * 1.10) + 300 : 100;
            String targetText = c < 2 ? "<= " + target + " ms (1.1x+300)" : "<= 100 ms";
            System.out.printf("%-26s %9d ms %9d ms %26s %6s%n", cases[c], o, hd, targetText, o <= target ? "yes" : "NO");
        }
        System.out.printf("%-26s %9d ms %9d ms %26s %6s%n", "repo.head x100 (parallel)", headMs, handHeadMs,
                "<= 2000 ms", headMs <= 2000 ? "yes" : "NO");
        System.out.println();
        System.out.println("by hand = git clone | git fetch && git checkout, then " + String.join(" ", composeCmd)
                + " up -d --build; repo.head by hand = 100 sequential git ls-remote");
    }

    private void oneRound(AgentClient client, String url, String tag, long[][] ours, long[][] hand, int r) throws Exception {
        // ours
        String name = "ours-" + tag;
        Path repo = createRepo("bench/" + name);
        push(repo, "one");
        projects.add(name);
        long t0 = System.nanoTime();
        sync(client, name);
        ours[0][r] = ms(t0);
        push(repo, "two");
        t0 = System.nanoTime();
        sync(client, name);
        ours[1][r] = ms(t0);
        t0 = System.nanoTime();
        JsonNode same = sync(client, name);
        ours[2][r] = ms(t0);
        if (same.get("changed").asBoolean()) {
            throw new IllegalStateException("unchanged sync ran compose");
        }
        client.call("deploy.remove", Map.of("name", name, "removeVolumes", true)).get(2, TimeUnit.MINUTES);

        // by hand
        String project = "hand-" + tag;
        Path handRepo = createRepo("bench/" + project);
        push(handRepo, "one");
        projects.add(project);
        Path checkout = dir.resolve("hand/" + project);
        String src = url + "/bench/" + project + ".git";
        t0 = System.nanoTime();
        check(run(List.of("git", "clone", "--quiet", src, checkout.toString()), null, false), "clone");
        composeUp(project, checkout);
        hand[0][r] = ms(t0);
        push(handRepo, "two");
        t0 = System.nanoTime();
        byHandUpdate(project, checkout);
        hand[1][r] = ms(t0);
        t0 = System.nanoTime();
        byHandUpdate(project, checkout);
        hand[2][r] = ms(t0);
        composeDown(project, checkout);
    }

    private void byHandUpdate(String project, Path checkout) throws Exception {
        check(run(List.of("git", "-C", checkout.toString(), "fetch", "--quiet", "origin"), null, false), "fetch");
        check(run(List.of("git", "-C", checkout.toString(), "checkout", "--quiet", "--detach", "origin/main"), null, false),
                "checkout");
        composeUp(project, checkout);
    }

    private void composeUp(String project, Path checkout) throws Exception {
        List<String> cmd = new ArrayList<>(composeCmd);
        cmd.addAll(List.of("-p", project, "up", "-d", "--build"));
        check(run(cmd, checkout, false), "compose up");
    }

    private void composeDown(String project, Path checkout) throws Exception {
        List<String> cmd = new ArrayList<>(composeCmd);
        cmd.addAll(List.of("-p", project, "down", "-v", "--rmi", "local"));
        run(cmd, checkout, false);
    }

    private static JsonNode sync(AgentClient client, String name) throws Exception {
        return client.call("deploy.sync", Map.of("name", name, "repo", "bench/" + name, "ref", "main"))
                .get(5, TimeUnit.MINUTES);
    }

    private Path createRepo(String repo) throws Exception {
        Path bare = dir.resolve("github/" + repo + ".git");
        Files.createDirectories(bare.getParent());
        check(run(List.of("git", "init", "--quiet", "--bare", "--initial-branch=main", bare.toString()), null, false), "init");
        Path tree = dir.resolve("work/" + repo);
        check(run(List.of("git", "init", "--quiet", "--initial-branch=main", tree.toString()), null, false), "init");
        check(run(List.of("git", "-C", tree.toString(), "remote", "add", "origin", bare.toString()), null, false), "remote");
        Files.writeString(tree.resolve("docker-compose.yml"), COMPOSE);
        Files.writeString(tree.resolve("Dockerfile"), DOCKERFILE);
        return tree;
    }

    private static void push(Path tree, String content) throws Exception {
        Files.writeString(tree.resolve("index.html"), content + "\n");
        check(run(List.of("git", "-C", tree.toString(), "add", "-A"), null, false), "add");
        check(run(List.of("git", "-C", tree.toString(), "-c", "user.name=b", "-c", "user.email=b@example.org",
                "commit", "--quiet", "-m", content), null, false), "commit");
        check(run(List.of("git", "-C", tree.toString(), "push", "--quiet", "origin", "HEAD:refs/heads/main"), null, false),
                "push");
    }

    private void startGitDaemon() throws Exception {
        Path base = Files.createDirectories(dir.resolve("github"));
        try (ServerSocket s = new ServerSocket(0)) {
            gitPort = s.getLocalPort();
        }
        daemon = new ProcessBuilder("git", "daemon", "--base-path=" + base, "--export-all", "--reuseaddr",
                "--listen=127.0.0.1", "--port=" + gitPort, base.toString())
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
    private void ensureImage() throws Exception {
        if (run(List.of("docker", "image", "inspect", IMAGE), null, false) == 0) {
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

    private void cleanup() throws Exception {
        for (String p : projects) {
            Process ps = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + p).start();
            String ids = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!ids.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("docker", "rm", "-f"));
                rm.addAll(Arrays.asList(ids.split("\\s+")));
                run(rm, null, false);
            }
            run(List.of("docker", "rmi", "-f", p + "_web", p + "-web"), null, false);
            run(List.of("docker", "network", "rm", p + "_default"), null, false);
        }
        if (daemon != null) {
            daemon.descendants().forEach(ProcessHandle::destroy);
            daemon.destroy();
        }
        run(List.of("rm", "-rf", dir.toString()), null, false);
    }

    private static void copyTree(Path from, Path to) throws Exception {
        check(run(List.of("cp", "-r", from.toString(), to.toString()), null, false), "cp");
    }

    private static int run(List<String> cmd, Path cwd, boolean show) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        pb.redirectOutput(show ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private static void check(int exit, String what) {
        if (exit != 0) {
            throw new IllegalStateException(what + " failed (exit " + exit + ")");
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static long median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
