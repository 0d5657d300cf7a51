package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.Rules;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private static final Pattern LS_LINE = Pattern.compile("([0-9a-f]{40})\t(\\S+)");
    private static final Pattern FULL_SHA = Pattern.compile("[0-9a-f]{40}");
    /** Options that make git safe to point at untrusted repositories. */
    private static final List<String> SAFE = List.of("-c", "protocol.ext.allow=never", "-c",
            "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false");

    private final Proc proc;
    private final String baseUrl;
    private final Duration timeout;

    Git(Proc proc, String baseUrl, Duration timeout) {
        this.proc = proc;
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.timeout = timeout;
    }

    String url(String repo) {
        return baseUrl + "/" + repo + ".git";
    }

    static boolean isFullSha(String ref) {
        return ref != null && FULL_SHA.matcher(ref).matches();
    }

    /**
     * The commit a branch, tag, full ref or the default branch (null ref) points to on the remote, without
     * cloning. Empty when the remote has no such ref (the ref may still be a commit sha).
     */
    Optional<String> lsRemote(String repo, String ref) {
        List<String> cmd = git();
        cmd.add("ls-remote");
        cmd.add(url(repo));
        if (ref == null) {
            cmd.add("HEAD");
        } else {
            // ls-remote matches patterns against the tail of each name, the peeled "^{}" lines included.
            cmd.add(ref);
            cmd.add(ref + "^{}");
        }
        List<String> out = new ArrayList<>();
        Proc.Result r = proc.capture(cmd, null, Map.of(), timeout, out);
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
    void cloneOrFetch(String repo, Path dir, Redactor redactor, Consumer<String> lines) {
        if (Files.isDirectory(dir.resolve(".git"))) {
            List<String> cmd = git(dir);
            cmd.addAll(List.of("fetch", "--progress", "--prune", "--force", "--tags", "origin",
                    "+refs/heads/*:refs/remotes/origin/*"));
            Proc.Result r = proc.run(cmd, dir, Map.of(), timeout, redactor, lines);
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
        cmd.addAll(List.of("clone", "--progress", "--no-checkout", "--", url(repo), dir.toString()));
        Proc.Result r = proc.run(cmd, null, Map.of(), timeout, redactor, lines);
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
    boolean fetchCommit(Path dir, String sha, Redactor redactor, Consumer<String> lines) {
        List<String> cmd = git(dir);
        cmd.addAll(List.of("fetch", "--progress", "origin", sha));
        return proc.run(cmd, dir, Map.of(), timeout, redactor, lines).ok();
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
                        || tail.contains("access denied") || tail.contains("Repository not found")
                        ? ErrorCode.NOT_FOUND : ErrorCode.UNAVAILABLE;
        return new ProtocolException(code, what + (r.timedOut() ? " timed out" : " failed (exit " + r.exit() + ")")
                + (tail.isEmpty() ? "" : ":\n" + tail));
    }
}
