package dev.hostdeploy.worker.deploy;

import static dev.hostdeploy.protocol.Validation.require;

import dev.hostdeploy.protocol.ProtocolException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds compose command lines: {@code docker compose} (v2) when the Docker CLI has the plugin, else
 * {@code docker-compose} (v1). Detected once, on first use.
 */
final class Compose {
    private final Proc proc;
    private final String override;
    private volatile List<String> base;

    /** @param override "v1", "v2" or "auto" */
    Compose(Proc proc, String override) {
        this.proc = proc;
        this.override = override;
    }

    List<String> base() {
        List<String> b = base;
        if (b == null) {
            synchronized (this) {
                if (base == null) {
                    base = detect();
                }
                b = base;
            }
        }
        return b;
    }

    private List<String> detect() {
        List<String> v2 = List.of("docker", "compose");
        List<String> v1 = List.of("docker-compose");
        if ("v2".equals(override)) {
            return v2;
        }
        if ("v1".equals(override)) {
            return v1;
        }
        if (works(List.of("docker", "compose", "version"))) {
            return v2;
        }
        if (works(List.of("docker-compose", "version"))) {
            return v1;
        }
        throw ProtocolException.unavailable("neither 'docker compose' nor 'docker-compose' is installed");
    }

    private boolean works(List<String> cmd) {
        try {
            return proc.capture(cmd, null, Map.of(), Duration.ofSeconds(30), new ArrayList<>()).ok();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** {@code compose -p PROJECT --env-file ENV -f FILE ARGS...}; compose runs in the file's directory. */
    List<String> command(String project, Path envFile, Path composeFile, String... args) {
        List<String> cmd = new ArrayList<>(base());
        if (cmd.size() == 2) {
            cmd.addAll(List.of("--ansi", "never"));
        }
        cmd.addAll(List.of("-p", project, "--env-file", envFile.toString(), "-f", composeFile.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * The compose file with symlinks followed; fails (naming {@code field}) unless it is a regular file
     * inside the checkout. The lexical half of this rule is checked on the request, by the schema's Rules.
     */
    static Path fileInside(Path checkout, String composePath, String field) {
        Path root;
        try {
            root = checkout.toRealPath();
        } catch (IOException e) {
            throw new IllegalStateException("checkout missing: " + checkout, e);
        }
        Path candidate = root.resolve(composePath).normalize();
        require(candidate.startsWith(root), field, "must stay inside the repository");
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (IOException e) {
            throw ProtocolException.invalid(field, "'" + composePath + "' does not exist in the repository at this commit");
        }
        require(real.startsWith(root), field, "resolves (through a symlink) outside the repository");
        require(Files.isRegularFile(real), field, "is not a regular file");
        return real;
    }
}
