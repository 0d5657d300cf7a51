package dev.hostdeploy.worker.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A SHA-256 over everything {@code compose config} reads to normalize one compose file: its command line
 * (compose v1 or v2, project, env file and compose file paths), the environment it runs in, the env file,
 * and the compose file, each {@code extends.file}, {@code env_file} and {@code label_file} (compose inlines
 * them), found by following {@code extends} as compose does; each file by its path as written, its real
 * path and its content's own SHA-256. The same hash means compose would print the same normalized config, so
 * {@link PolicyCheck} may reuse the one it already has instead of starting compose again.
 *
 * <p>Empty when those files cannot all be named before compose runs: a path with {@code $} or {@code ~}
 * (compose interpolates or expands it), a top-level {@code include}, a file without a {@code services}
 * map, YAML that SnakeYAML refuses (compose's own parser might read it differently), a service name or
 * path that is not a string, {@code extends} of a service the walk cannot find, {@code extends} deeper than
 * eight levels, a path that is neither a regular file nor missing. Compose then runs every time.
 */
final class ComposeInputs {
    private static final int MAX_EXTENDS_DEPTH = 8;
    /**
     * Read by compose only without {@code --env-file} / {@code -f}, which the Worker always passes; hashed
     * all the same, as insurance against a compose version that reads them anyway.
     */
    private static final List<String> PROJECT_FILES = List.of(".env", "docker-compose.override.yml",
            "docker-compose.override.yaml", "compose.override.yml", "compose.override.yaml");

    private final MessageDigest sha;
    private boolean complete = true;

    private ComposeInputs() {
        sha = sha256();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * @param command     the {@code config} command line, as {@link Compose#command} builds it
     * @param environment the environment compose runs in ({@link Proc#environment})
     */
    static Optional<String> hash(List<String> command, Map<String, String> environment, Path envFile, Path composeFile) {
        ComposeInputs in = new ComposeInputs();
        in.text("command", String.join("\0", command));
        new TreeMap<>(environment).forEach((k, v) -> in.text("environment", k + "=" + v));
        in.file(envFile);
        Path dir = composeFile.getParent();
        PROJECT_FILES.forEach(f -> in.file(dir.resolve(f)));
        Map<String, Object> root = in.yaml(composeFile);
        if (root != null) {
            if (root.containsKey("include") || !(root.get("services") instanceof Map<?, ?> services)) {
                in.complete = false;
            } else {
                services.keySet().forEach(s -> in.service(composeFile, root, s, 0));
            }
        }
        return in.complete ? Optional.of(HexFormat.of().formatHex(in.sha.digest())) : Optional.empty();
    }

    /** The files one service makes compose read, then those of the service it extends. */
    private void service(Path file, Map<String, Object> root, Object name, int depth) {
        // Only names and paths read exactly as compose reads them: anything else (a number as a service
        // name, a missing service) might lead compose to a file this walk would miss.
        Object found = ComposePolicy.map(root.get("services")).get(name);
        if (!(name instanceof String) || !(found instanceof Map<?, ?>)) {
            complete = false;
            return;
        }
        Map<String, Object> svc = ComposePolicy.map(found);
        Path dir = file.getParent();
        for (String key : List.of("env_file", "label_file")) {
            for (Object entry : ComposePolicy.list(svc.get(key))) {
                // compose-spec's long form: {path: ..., required: ...}
                named(dir, entry instanceof Map<?, ?> m ? m.get("path") : entry).ifPresent(this::file);
            }
        }
        Object ext = svc.get("extends");
        if (ext == null) {
            return;
        }
        if (depth >= MAX_EXTENDS_DEPTH) {
            complete = false;
            return;
        }
        Object base = ext instanceof Map<?, ?> m ? m.get("service") : ext;
        Object extFile = ext instanceof Map<?, ?> m ? m.get("file") : null;
        if (extFile == null) {
            service(file, root, base, depth + 1);
            return;
        }
        Optional<Path> next = named(dir, extFile);
        Map<String, Object> nextRoot = next.map(this::yaml).orElse(null);
        if (nextRoot != null) {
            service(next.get(), nextRoot, base, depth + 1);
        }
    }

    /** A path as written in the file, unless compose would interpolate or expand it (or it is no string). */
    private Optional<Path> named(Path dir, Object path) {
        if (path == null) {
            return Optional.empty();
        }
        if (!(path instanceof String p) || p.contains("$") || p.startsWith("~")) {
            complete = false;
            return Optional.empty();
        }
        return Optional.of(dir.resolve(p));
    }

    /** Hashes the file and reads it as compose does; null when missing or not YAML SnakeYAML accepts. */
    private Map<String, Object> yaml(Path file) {
        if (!hashFile(file)) {
            return null;
        }
        // SnakeYAML's own limit (ComposePolicy.options) bounds what a large file can cost here.
        try (Reader in = Files.newBufferedReader(file.toAbsolutePath().normalize())) {
            Object doc = new Yaml(new SafeConstructor(ComposePolicy.options())).load(in);
            if (doc instanceof Map<?, ?>) {
                return ComposePolicy.map(doc);
            }
        } catch (IOException | RuntimeException e) {
            // handled below: compose's parser may still accept what SnakeYAML refused
        }
        complete = false;
        return null;
    }

    private void file(Path file) {
        hashFile(file);
    }

    /**
     * Hashes the path as written, its real path and its content's own SHA-256, streamed (a large file
     * costs no memory), or that it is missing; true when there is content to read.
     */
    private boolean hashFile(Path file) {
        Path written = file.toAbsolutePath().normalize();
        text("path", written.toString());
        text("real", ComposePolicy.real(written).toString());
        if (Files.isRegularFile(written)) {
            try (InputStream in = Files.newInputStream(written)) {
                MessageDigest content = sha256();
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) >= 0; ) {
                    content.update(buf, 0, n);
                }
                bytes(content.digest());
                return true;
            } catch (IOException e) {
                complete = false;
                return false;
            }
        }
        if (Files.exists(written)) {
            complete = false; // a directory, a fifo...: compose would read something this hash cannot see
        } else {
            text("missing", "");
        }
        return false;
    }

    private void text(String tag, String value) {
        bytes(tag.getBytes(StandardCharsets.UTF_8));
        bytes(value.getBytes(StandardCharsets.UTF_8));
    }

    /** Length first, so that no two different sequences of inputs hash the same bytes. */
    private void bytes(byte[] b) {
        sha.update(ByteBuffer.allocate(Long.BYTES).putLong(b.length).array());
        sha.update(b);
    }
}
