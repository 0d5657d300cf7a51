package dev.hostdeploy.schema.deploy;

import static dev.hostdeploy.protocol.Validation.require;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Input rules of the deploy and repo commands, checked in the records' constructors, so a bad request
 * fails before anything touches git or Docker. Every check names the offending field: a bad request
 * becomes {@code invalid_data} with that field. Only strings are judged here; what needs the checkout
 * (where a compose path leads through symlinks) is the Worker's to check.
 */
public final class Rules {
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** GitHub logins: alphanumerics and single hyphens, not at either end, at most 39 characters. */
    public static final Pattern ORG = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}");
    /** GitHub repository names: ASCII letters, digits, '.', '-', '_', at most 100 characters. */
    public static final Pattern REPO_NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");
    public static final Pattern SHA = Pattern.compile("[0-9a-f]{7,40}");
    public static final Pattern ENV_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    /**
     * User variables reach compose only through its env file (for interpolation and the containers), never
     * the environment of git, docker or compose itself, so LD_PRELOAD, NODE_ENV or TZ are the user's business.
     * Refused are what compose reads from its env file for its own behaviour ({@code COMPOSE_*},
     * {@code DOCKER_*}), the Worker's own {@code HOSTDEPLOY_*} escapes in that file, and the names the Worker
     * sets in compose's environment: compose lets its environment win over the env file, so a user value
     * there would silently be replaced by the Worker's.
     */
    public static final Pattern RESERVED_ENV = Pattern.compile(
            "(?i)(COMPOSE_|DOCKER_|HOSTDEPLOY_).*|PATH|HOME|TMPDIR|XDG_RUNTIME_DIR|LC_ALL|SSH_AUTH_SOCK"
                    + "|HTTPS?_PROXY|NO_PROXY");
    /** Compose service names, as compose 1.29's schema accepts them. */
    public static final Pattern SERVICE = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    public static final int MAX_ALLOW_SERVICES = 64;
    public static final int MAX_ENV_ENTRIES = 256;
    public static final int MAX_ENV_VALUE = 32 * 1024;

    private Rules() {
    }

    public static void name(String name, String field) {
        require(name != null, field, "is required");
        require(NAME.matcher(name).matches(), field, "must match [a-z0-9][a-z0-9-]{0,62}");
    }

    public static void repo(String repo, String field) {
        require(repo != null, field, "is required");
        int slash = repo.indexOf('/');
        require(slash > 0 && slash == repo.lastIndexOf('/'), field, "must be org/name");
        String org = repo.substring(0, slash);
        String name = repo.substring(slash + 1);
        require(ORG.matcher(org).matches(), field, "organisation '" + printable(org) + "' is not a valid GitHub login");
        require(REPO_NAME.matcher(name).matches() && !name.equals(".") && !name.equals(".."),
                field, "repository name '" + printable(name) + "' is not a valid GitHub repository name");
    }

    /**
     * A branch, tag, full ref or commit, checked with the rules of {@code git check-ref-format
     * --allow-onelevel}, plus git's rule for branch names that a ref cannot start with '-' (so a ref can
     * never be read as an option).
     */
    public static void ref(String ref, String field) {
        if (ref == null) {
            return;
        }
        require(!ref.isEmpty() && ref.length() <= 255, field, "must be 1 to 255 characters");
        require(!ref.startsWith("-"), field, "must not start with '-'");
        require(!ref.equals("@"), field, "must not be '@'");
        require(!ref.contains(".."), field, "must not contain '..'");
        require(!ref.contains("@{"), field, "must not contain '@{'");
        require(!ref.startsWith("/") && !ref.endsWith("/") && !ref.contains("//"), field,
                "must not start or end with '/' or contain '//'");
        require(!ref.endsWith("."), field, "must not end with '.'");
        for (int i = 0; i < ref.length(); i++) {
            char c = ref.charAt(i);
            require(c >= 0x20 && c != 0x7f && c < 0x80 || c >= 0xa0, field, "must not contain control characters");
            require(" ~^:?*[\\".indexOf(c) < 0, field, "must not contain space or any of ~^:?*[\\");
        }
        for (String component : ref.split("/")) {
            require(!component.startsWith("."), field, "no path component may start with '.'");
            require(!component.endsWith(".lock"), field, "no path component may end with '.lock'");
        }
    }

    public static void commit(String commit, String field) {
        require(commit != null, field, "is required");
        require(SHA.matcher(commit).matches(), field, "must be 7 to 40 lowercase hex digits");
    }

    /**
     * The lexical half of the composePath rule: relative and staying inside the checkout. Symlinks can
     * only be judged after checkout, by the Worker.
     */
    public static void composePath(String composePath, String field) {
        if (composePath == null) {
            return;
        }
        require(!composePath.isBlank() && composePath.length() <= 1024, field, "must be 1 to 1024 characters");
        require(composePath.indexOf('\0') < 0 && composePath.indexOf('\\') < 0, field,
                "must not contain NUL or backslash");
        require(!composePath.startsWith("/") && !composePath.startsWith("~"), field,
                "must be relative to the repository root");
        Path p;
        try {
            p = Path.of(composePath);
        } catch (InvalidPathException e) {
            throw dev.hostdeploy.protocol.ProtocolException.invalid(field, "is not a valid path");
        }
        require(!p.isAbsolute(), field, "must be relative to the repository root");
        Path normal = p.normalize();
        require(!normal.toString().isEmpty() && !normal.startsWith(".."), field,
                "must stay inside the repository");
    }

    public static void env(Map<String, String> env, String field) {
        if (env == null) {
            return;
        }
        require(env.size() <= MAX_ENV_ENTRIES, field, "at most " + MAX_ENV_ENTRIES + " entries");
        for (Map.Entry<String, String> e : env.entrySet()) {
            String key = e.getKey();
            require(key != null && ENV_KEY.matcher(key).matches(), field,
                    "keys must match [A-Za-z_][A-Za-z0-9_]*");
            require(!RESERVED_ENV.matcher(key).matches(), field + "." + key,
                    "is reserved (compose reads it, or the Worker sets it for compose)");
            String value = e.getValue();
            // Never quote the value in the message: it is a secret.
            require(value != null, field + "." + key, "must be a string");
            require(value.length() <= MAX_ENV_VALUE, field + "." + key, "is too long");
            require(value.indexOf('\n') < 0 && value.indexOf('\r') < 0 && value.indexOf('\0') < 0,
                    field + "." + key, "must not contain newlines or NUL");
        }
    }

    /** Exceptions to the compose policy: known rule names to lists of service names. */
    public static void allow(Map<String, List<String>> allow, String field) {
        if (allow == null) {
            return;
        }
        for (Map.Entry<String, List<String>> e : allow.entrySet()) {
            String key = e.getKey();
            require(key != null && PolicyRule.byKey(key).isPresent(), field + "." + printable(String.valueOf(key)),
                    "is not a compose policy rule (known: " + Arrays.stream(PolicyRule.values())
                            .map(PolicyRule::key).collect(Collectors.joining(", ")) + ")");
            String f = field + "." + key;
            require(e.getValue() != null && !e.getValue().isEmpty(), f, "must list at least one service");
            require(e.getValue().size() <= MAX_ALLOW_SERVICES, f, "at most " + MAX_ALLOW_SERVICES + " services");
            for (String service : e.getValue()) {
                require(service != null && SERVICE.matcher(service).matches(), f,
                        "'" + printable(String.valueOf(service)) + "' is not a valid compose service name");
            }
        }
    }

    public static final int MAX_DEPLOY_KEY = 16 * 1024;
    private static final String KEY_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private static final String KEY_END = "-----END OPENSSH PRIVATE KEY-----";
    private static final byte[] KEY_MAGIC = "openssh-key-v1\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * A deploy key: an OpenSSH private key ({@code -----BEGIN OPENSSH PRIVATE KEY-----}, base64 of an
     * {@code openssh-key-v1} blob). Checked before it is written anywhere; the message never quotes it.
     */
    public static void deployKey(String key, String field) {
        if (key == null) {
            return;
        }
        require(key.length() <= MAX_DEPLOY_KEY, field, "is too long");
        String t = key.strip();
        require(t.startsWith(KEY_BEGIN) && t.endsWith(KEY_END) && t.length() > KEY_BEGIN.length() + KEY_END.length(),
                field, "is not an OpenSSH private key");
        String body = t.substring(KEY_BEGIN.length(), t.length() - KEY_END.length()).replaceAll("\\s", "");
        byte[] blob;
        try {
            blob = java.util.Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            blob = new byte[0];
        }
        require(blob.length > KEY_MAGIC.length
                        && Arrays.equals(Arrays.copyOf(blob, KEY_MAGIC.length), KEY_MAGIC),
                field, "is not an OpenSSH private key");
    }

    /** Keeps user input in messages readable and one line. */
    public static String printable(String s) {
        String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
