package dev.hostdeploy.worker.deploy;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * "GitHub" for tests: {@code git daemon} on 127.0.0.1 serving bare repositories ORG/NAME.git that the
 * test creates and pushes to through the file system.
 */
public final class GitHubFixture implements AutoCloseable {
    final Path base;
    final Path work;
    final int port;
    final Path log;
    private final Process daemon;

    public GitHubFixture(Path dir) throws Exception {
        this.base = Files.createDirectories(dir.resolve("github"));
        this.work = Files.createDirectories(dir.resolve("work"));
        this.log = dir.resolve("git-daemon.log");
        int p;
        try (ServerSocket s = new ServerSocket(0)) {
            p = s.getLocalPort();
        }
        this.port = p;
        daemon = new ProcessBuilder("git", "daemon", "--base-path=" + base, "--export-all", "--reuseaddr",
                "--verbose", "--informative-errors", "--listen=127.0.0.1", "--port=" + port, base.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Listening.await("git daemon", daemon, port, log);
    }

    public String baseUrl() {
        return "git://127.0.0.1:" + port;
    }

    /** Creates ORG/NAME.git with default branch main and a work tree to commit from. */
    public Repo create(String repo) throws Exception {
        Path bare = base.resolve(repo + ".git");
        Files.createDirectories(bare.getParent());
        git(null, "init", "--quiet", "--bare", "--initial-branch=main", bare.toString());
        Path tree = work.resolve(repo.replace('/', '_'));
        git(null, "init", "--quiet", "--initial-branch=main", tree.toString());
        git(tree, "remote", "add", "origin", bare.toString());
        return new Repo(repo, bare, tree);
    }

    String daemonLog() throws IOException {
        return Files.readString(log);
    }

    public final class Repo {
        final String name;
        final Path bare;
        final Path tree;

        Repo(String name, Path bare, Path tree) {
            this.name = name;
            this.bare = bare;
            this.tree = tree;
        }

        /** Writes the files (a null content deletes), commits and pushes main; returns the commit sha. */
        public String push(String message, Map<String, String> files) throws Exception {
            for (var e : files.entrySet()) {
                Path f = tree.resolve(e.getKey());
                if (e.getValue() == null) {
                    Files.deleteIfExists(f);
                } else {
                    Files.createDirectories(f.getParent());
                    Files.writeString(f, e.getValue());
                }
            }
            git(tree, "add", "-A");
            git(tree, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet",
                    "--allow-empty", "-m", message);
            git(tree, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/main");
            return git(tree, "rev-parse", "HEAD").trim();
        }

        void symlink(String link, String target) throws IOException {
            Path l = tree.resolve(link);
            Files.createDirectories(l.getParent());
            Files.createSymbolicLink(l, Path.of(target));
        }

        void tag(String tag) throws Exception {
            git(tree, "tag", "-a", "-m", tag, tag);
            git(tree, "push", "--quiet", "origin", "refs/tags/" + tag);
        }
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
