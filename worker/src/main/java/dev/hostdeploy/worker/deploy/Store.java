package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.schema.deploy.Rules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The files under the deploy root: checkouts at {@code ROOT/NAME}, state at {@code ROOT/.state/NAME.json},
 * secrets at {@code ROOT/.secrets/NAME.env} (mode 0600, directory 0700). Names never start with '.', so
 * the dot directories cannot collide with a checkout, and secrets are never inside a checkout.
 */
final class Store {
    private final Path root;
    private final Path stateDir;
    private final Path secretsDir;

    Store(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.stateDir = this.root.resolve(".state");
        this.secretsDir = this.root.resolve(".secrets");
        try {
            Files.createDirectories(this.root);
            Files.createDirectories(stateDir);
            if (!Files.isDirectory(secretsDir)) {
                Files.createDirectory(secretsDir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
            Files.setPosixFilePermissions(secretsDir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare deploy root " + this.root, e);
        }
    }

    Path root() {
        return root;
    }

    Path checkout(String name) {
        return root.resolve(name);
    }

    Path envFile(String name) {
        return secretsDir.resolve(name + ".env");
    }

    Optional<State> load(String name) {
        Path f = stateDir.resolve(name + ".json");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.MAPPER.readValue(f.toFile(), State.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    void save(State state) {
        try {
            writeAtomically(stateDir.resolve(state.name() + ".json"),
                    Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(state), "rw-r-----");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save state of " + state.name(), e);
        }
    }

    List<String> names() {
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(stateDir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - 5))
                    .filter(n -> Rules.NAME.matcher(n).matches())
                    .sorted()
                    .forEach(names::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + stateDir, e);
        }
        return names;
    }

    /** First line of an env file in the quoted format (older files hold raw KEY=value lines). */
    static final String ENV_HEADER = "# hostdeploy env file v2: single-quoted values, read by compose (python-dotenv)";
    /**
     * Compose 1.29 reads its env file with python-dotenv, which expands {@code ${...}} even in single
     * quotes and cannot quote a value that ends in a backslash. These two helper variables (unquoted, so
     * taken literally) stand in for those characters, which keeps every value byte for byte.
     */
    private static final String BACKSLASH = "HOSTDEPLOY_BS";
    private static final String DOLLAR_BRACE = "HOSTDEPLOY_LB";

    /** The secrets of a deployment, empty when it has none. */
    Map<String, String> env(String name) {
        Path f = envFile(name);
        Map<String, String> env = new LinkedHashMap<>();
        if (!Files.isRegularFile(f)) {
            return env;
        }
        try {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            boolean quoted = !lines.isEmpty() && lines.get(0).equals(ENV_HEADER);
            for (String line : lines) {
                int eq = line.indexOf('=');
                if (eq <= 0 || line.startsWith("#")) {
                    continue;
                }
                String key = line.substring(0, eq);
                String value = line.substring(eq + 1);
                if (quoted) {
                    if (key.equals(BACKSLASH) || key.equals(DOLLAR_BRACE)) {
                        continue;
                    }
                    value = decode(value);
                }
                env.put(key, value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read secrets of " + name, e);
        }
        return env;
    }

    /** Writes the secrets file (0600) unless it already holds exactly these values; true when it changed. */
    boolean writeEnv(String name, Map<String, String> env) {
        Map<String, String> sorted = new TreeMap<>(env);
        Path f = envFile(name);
        if (Files.isRegularFile(f) && firstLineIsHeader(f) && new TreeMap<>(env(name)).equals(sorted)) {
            return false;
        }
        StringBuilder sb = new StringBuilder(ENV_HEADER).append('\n');
        sb.append(BACKSLASH).append("=\\\n").append(DOLLAR_BRACE).append("=${\n");
        sorted.forEach((k, v) -> sb.append(k).append('=').append(encode(v)).append('\n'));
        try {
            writeAtomically(f, sb.toString().getBytes(StandardCharsets.UTF_8), "rw-------");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write secrets of " + name, e);
        }
        return true;
    }

    static String encode(String value) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') {
                sb.append("${").append(BACKSLASH).append('}');
            } else if (c == '$' && i + 1 < value.length() && value.charAt(i + 1) == '{') {
                sb.append("${").append(DOLLAR_BRACE).append('}');
                i++;
            } else if (c == '\'') {
                sb.append("\\'");
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    static String decode(String quoted) {
        String body = quoted.length() >= 2 && quoted.startsWith("'") && quoted.endsWith("'")
                ? quoted.substring(1, quoted.length() - 1) : quoted;
        return body.replace("\\'", "'").replace("${" + BACKSLASH + "}", "\\")
                .replace("${" + DOLLAR_BRACE + "}", "${");
    }

    private static boolean firstLineIsHeader(Path f) {
        try (var lines = Files.lines(f, StandardCharsets.UTF_8)) {
            return lines.findFirst().map(ENV_HEADER::equals).orElse(false);
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /** Forgets a deployment: its checkout, state and secrets. */
    void delete(String name) {
        try {
            deleteTree(checkout(name));
            Files.deleteIfExists(envFile(name));
            Files.deleteIfExists(stateDir.resolve(name + ".json"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete files of " + name, e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** The permissions are set on the temp file before any byte is written, so secrets are never readable. */
    private static void writeAtomically(Path target, byte[] content, String perms) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
        Files.write(tmp, content);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
