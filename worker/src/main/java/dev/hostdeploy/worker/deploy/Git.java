package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.Rules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** The git half of the pipeline. Repos are validated before they reach this class. */
final class Git {
    private static final Logger LOG = LoggerFactory.getLogger(Git.class);
    private static final Pattern LS_LINE = Pattern.compile("([0-9a-f]{40})\t(\\S+)");
    private static final Pattern FULL_SHA = Pattern.compile("[0-9a-f]{40}");
    /** Options that make git safe to point at untrusted repositories. */
    private static final List<String> SAFE = List.of("-c", "protocol.ext.allow=never", "-c",
            "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false");

    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

    private final Proc proc;
    private final String baseUrl;
    private final String sshBase;
    private final Path keysDir;
    private final Path knownHosts;
    private final Duration timeout;

    /**
     * @param sshBase  private repos (those with a deploy key) are fetched from {@code sshBase + ORG/NAME.git}
     * @param keysDir  where a deploy key is written, in its own 0700 directory, for one git call
     */
    Git(Proc proc, String baseUrl, String sshBase, Path keysDir, Path knownHosts, Duration timeout) {
        this.proc = proc;
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.sshBase = sshBase;
        this.keysDir = keysDir;
        this.knownHosts = knownHosts;
        this.timeout = timeout;
    }

    String url(String repo) {
        return baseUrl + "/" + repo + ".git";
    }

    /** Over SSH when the repo has a deploy key; {@code repo} is a validated ORG/NAME. */
    String url(String repo, String deployKey) {
        return deployKey == null ? url(repo) : sshBase + repo + ".git";
    }

    /** A git call given the environment that carries its credentials (none for a public repo). */
    private interface Call {
        Proc.Result run(Map<String, String> env);
    }

    /**
     * Runs one git call; with a deploy key, writes it as a 0600 file in a fresh 0700 directory that ssh
     * alone reads through GIT_SSH_COMMAND, and deletes both when the call returns, whatever happened.
     */
    private Proc.Result withKey(String deployKey, Call call) {
        if (deployKey == null) {
            return call.run(Map.of());
        }
        Path dir = null;
        try {
            Files.createDirectories(keysDir);
            Files.setPosixFilePermissions(keysDir, OWNER_ONLY_DIR);
            dir = Files.createTempDirectory(keysDir, "key-", PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            Path file = Files.createFile(dir.resolve("id_ed25519"), PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
            String text = deployKey.strip() + "\n";
            Files.writeString(file, text, StandardCharsets.US_ASCII);
            // git hands GIT_SSH_COMMAND to sh: only our own paths go into it, each single-quoted.
            String ssh = "ssh -i " + quote(file) + " -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new"
                    + " -o UserKnownHostsFile=" + quote(knownHosts) + " -o BatchMode=yes -F /dev/null";
            Files.createDirectories(knownHosts.getParent());
            return call.run(Map.of("GIT_SSH_COMMAND", ssh));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the deploy key", e);
        } finally {
            if (dir != null) {
                try {
                    Store.deleteTree(dir);
                } catch (IOException e) {
                    LOG.warn("could not delete the deploy key directory {}: {}", dir, e.toString());
                }
            }
        }
    }

    private static String quote(Path p) {
        return "'" + p.toAbsolutePath().toString().replace("'", "'\\''") + "'";
    }

    static boolean isFullSha(String ref) {
        return ref != null && FULL_SHA.matcher(ref).matches();
    }

    /**
     * The commit a branch, tag, full ref or the default branch (null ref) points to on the remote, without
     * cloning. Empty when the remote has no such ref (the ref may still be a commit sha).
     */
    Optional<String> lsRemote(String repo, String ref, String deployKey) {
        List<String> cmd = git();
        cmd.add("ls-remote");
        cmd.add(url(repo, deployKey));
        if (ref == null) {
            cmd.add("HEAD");
        } else {
            // ls-remote matches patterns against the tail of each name, the peeled "^{}" lines included.
            cmd.add(ref);
            cmd.add(ref + "^{}");
        }
        List<String> out = new ArrayList<>();
        Proc.Result r = withKey(deployKey, env -> proc.capture(cmd, null, env, timeout, out));
        if (!r.ok()) {
            throw failure("git ls-remote of " + repo, r);
        }
        Map<String, String> refs = new HashMap<>();
        for (String line : out) {
            var m = LS_LINE.matcher(line);
            if (m.matches()) {
                refs.put(m.group(2), m.group(1));
            }
        }
        if (ref == null) {
            return Optional.ofNullable(refs.get("HEAD"));
        }
        // Branches win over tags like in git itself; annotated tags resolve to the commit they tag.
        for (String name : ref.startsWith("refs/")
                ? List.of(ref + "^{}", ref)
                : List.of("refs/heads/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref)) {
            String sha = refs.get(name);
            if (sha != null) {
                return Optional.of(sha);
            }
        }
        return Optional.empty();
    }

    /** Clones the repository (no checkout) the first time, otherwise fetches branches and tags. */
    void cloneOrFetch(String repo, String deployKey, Path dir, Redactor redactor, Consumer<String> lines) {
        if (Files.isDirectory(dir.resolve(".git"))) {
            // The repo may have turned private (or public) since the clone: origin follows the key.
            List<String> setUrl = git(dir);
            setUrl.addAll(List.of("remote", "set-url", "origin", url(repo, deployKey)));
            Proc.Result s = proc.run(setUrl, dir, Map.of(), timeout, Redactor.NONE, null);
            if (!s.ok()) {
                throw failure("git remote set-url of " + repo, s);
            }
            List<String> cmd = git(dir);
            cmd.addAll(List.of("fetch", "--progress", "--prune", "--force", "--tags", "origin",
                    "+refs/heads/*:refs/remotes/origin/*"));
            Proc.Result r = withKey(deployKey, env -> proc.run(cmd, dir, env, timeout, redactor, lines));
            if (!r.ok()) {
                throw failure("git fetch of " + repo, r);
            }
            return;
        }
        try {
            Store.deleteTree(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<String> cmd = git();
        cmd.addAll(List.of("clone", "--progress", "--no-checkout", "--", url(repo, deployKey), dir.toString()));
        Proc.Result r = withKey(deployKey, env -> proc.run(cmd, null, env, timeout, redactor, lines));
        if (!r.ok()) {
            try {
                Store.deleteTree(dir);
            } catch (java.io.IOException ignored) {
                // A half clone is deleted again by the next clone attempt.
            }
            throw failure("git clone of " + repo, r);
        }
    }

    /** The commit a ref names in the local clone: the remote-tracking branch, a tag, or a commit sha. */
    Optional<String> resolveLocal(Path dir, String ref) {
        List<String> candidates = new ArrayList<>();
        if (ref == null) {
            candidates.add("refs/remotes/origin/HEAD");
        } else if (ref.startsWith("refs/heads/")) {
            candidates.add("refs/remotes/origin/" + ref.substring("refs/heads/".length()));
        } else if (ref.startsWith("refs/")) {
            candidates.add(ref);
        } else {
            candidates.add("refs/remotes/origin/" + ref);
            candidates.add("refs/tags/" + ref);
            if (Rules.SHA.matcher(ref).matches()) {
                candidates.add(ref);
            }
        }
        for (String c : candidates) {
            Optional<String> sha = commitOf(dir, c);
            if (sha.isPresent()) {
                return sha;
            }
        }
        return Optional.empty();
    }

    /** The full sha of a commit-ish present in the clone. */
    Optional<String> commitOf(Path dir, String commitish) {
        List<String> cmd = git(dir);
        cmd.addAll(List.of("rev-parse", "--verify", "--quiet", "--end-of-options", commitish + "^{commit}"));
        List<String> out = new ArrayList<>();
        Proc.Result r = proc.capture(cmd, dir, Map.of(), timeout, out);
        if (r.ok() && !out.isEmpty() && FULL_SHA.matcher(out.get(0).trim()).matches()) {
            return Optional.of(out.get(0).trim());
        }
        return Optional.empty();
    }

    /** Fetches one commit by sha, for a rollback to a commit no branch or tag holds any more. */
    boolean fetchCommit(Path dir, String sha, String deployKey, Redactor redactor, Consumer<String> lines) {
        List<String> cmd = git(dir);
        cmd.addAll(List.of("fetch", "--progress", "origin", sha));
        return withKey(deployKey, env -> proc.run(cmd, dir, env, timeout, redactor, lines)).ok();
    }

    void checkout(Path dir, String sha) {
        List<String> cmd = git(dir);
        cmd.addAll(List.of("checkout", "--quiet", "--force", "--detach", sha));
        Proc.Result r = proc.run(cmd, dir, Map.of(), timeout, Redactor.NONE, null);
        if (!r.ok()) {
            throw failure("git checkout of " + sha, r);
        }
    }

    private List<String> git() {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(SAFE);
        return cmd;
    }

    private List<String> git(Path dir) {
        List<String> cmd = git();
        cmd.add("-C");
        cmd.add(dir.toString());
        return cmd;
    }

    private static ProtocolException failure(String what, Proc.Result r) {
        String tail = r.tailText();
        ErrorCode code = r.timedOut() ? ErrorCode.TIMEOUT
                : tail.contains("not found") || tail.contains("no such repository") || tail.contains("does not appear to be a git repository")
                        || tail.contains("access denied") || tail.contains("Permission denied (publickey") || tail.contains("Repository not found")
                        ? ErrorCode.NOT_FOUND : ErrorCode.UNAVAILABLE;
        return new ProtocolException(code, what + (r.timedOut() ? " timed out" : " failed (exit " + r.exit() + ")")
                + (tail.isEmpty() ? "" : ":\n" + tail));
    }
}
