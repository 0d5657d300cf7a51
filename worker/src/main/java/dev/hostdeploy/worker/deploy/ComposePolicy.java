package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.PolicyRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What a repository's compose file may ask of the host. Anyone who can push to an allowed repository
 * writes this file, so by default it gets an ordinary confined container: the {@link PolicyRule}s refuse
 * what would reach the host (privileges, host namespaces, devices, host files), and an admin waives a
 * rule for named services of one deployment ({@code deploy.sync}'s {@code allow}).
 *
 * <p>Paths are judged on the raw file ({@code env_file}, {@code extends.file}: compose 1.29's
 * {@code config} has already read and inlined them), everything else on compose's normalized
 * {@code config} output, so interpolation, defaults and short syntax are already resolved as compose
 * will use them. A path is inside the checkout when it is after following symlinks.
 */
final class ComposePolicy {
    /** Docker's default capabilities: adding them back after a cap_drop gives nothing new. */
    static final Set<String> SAFE_CAPABILITIES = Set.of("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD",
            "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",
            "AUDIT_WRITE");
    /** security_opt values that switch a confinement off (':' is normalized to '='). */
    static final Set<String> UNCONFINED = Set.of("apparmor=unconfined", "seccomp=unconfined", "label=disable",
            "systempaths=unconfined");
    private static final int MAX_EXTENDS_DEPTH = 8;

    /** One refused setting: the rule, the service, and the compose key with what it asked for. */
    record Violation(PolicyRule rule, String service, String key) {
        String message() {
            return "service '" + service + "': " + key + " is not allowed (ask an admin for an exception: allow."
                    + rule.key() + ")";
        }
    }

    private final Path checkout;
    private final Set<Path> dockerSockets;
    private final Map<PolicyRule, Set<String>> exceptions;

    /**
     * @param checkout    the deployment's checkout (its real path is the boundary)
     * @param dockerSockets the Docker socket's paths on this host (mounting it, or a directory holding it,
     *                    is root on the host)
     * @param exceptions  rules waived per service
     */
    ComposePolicy(Path checkout, Set<Path> dockerSockets, Map<PolicyRule, Set<String>> exceptions) {
        try {
            this.checkout = checkout.toRealPath();
        } catch (IOException e) {
            throw new IllegalStateException("checkout missing: " + checkout, e);
        }
        this.dockerSockets = dockerSockets.stream().map(ComposePolicy::real).collect(Collectors.toUnmodifiableSet());
        this.exceptions = Map.copyOf(exceptions);
    }

    /** The socket paths a Docker host URL and the usual locations name. */
    static Set<Path> socketsOf(String dockerHost) {
        Set<Path> sockets = new LinkedHashSet<>(List.of(Path.of("/var/run/docker.sock"), Path.of("/run/docker.sock")));
        if (dockerHost != null && dockerHost.startsWith("unix://")) {
            sockets.add(Path.of(dockerHost.substring("unix://".length())));
        }
        return sockets;
    }

    /** Fails with {@code invalid_data} on field {@code composePath}, listing every refused setting. */
    static void enforce(List<Violation> violations) {
        if (!violations.isEmpty()) {
            throw new ProtocolException(ErrorCode.INVALID_DATA, "the compose file breaks this worker's compose policy: "
                    + violations.stream().map(Violation::message).distinct().collect(Collectors.joining("; ")),
                    "composePath");
        }
    }

    // ---- the raw file: paths compose reads while normalizing ----

    /** Checks {@code env_file} and {@code extends.file} of every service of the raw compose file. */
    List<Violation> checkRaw(Path composeFile) {
        List<Violation> out = new ArrayList<>();
        Map<String, Object> services = map(load(composeFile).get("services"));
        for (Object service : services.keySet()) {
            checkRawService(composeFile, String.valueOf(service), String.valueOf(service), out, 0);
        }
        return out;
    }

    private void checkRawService(Path file, String name, String attributedTo, List<Violation> out, int depth) {
        Map<String, Object> svc = map(map(load(file).get("services")).get(name));
        Path dir = file.getParent();
        Object envFiles = svc.get("env_file");
        for (Object entry : envFiles instanceof List<?> l ? l : envFiles == null ? List.of() : List.of(envFiles)) {
            // compose-spec's long form: {path: ..., required: ...}
            Object path = entry instanceof Map<?, ?> m ? m.get("path") : entry;
            if (path != null && !insideLiteral(dir, String.valueOf(path))) {
                add(out, PolicyRule.ENV_FILE, attributedTo, "env_file '" + path + "'");
            }
        }
        Object ext = svc.get("extends");
        if (ext == null || depth >= MAX_EXTENDS_DEPTH) {
            return;
        }
        String base = ext instanceof Map<?, ?> m ? String.valueOf(m.get("service")) : String.valueOf(ext);
        Object extFile = ext instanceof Map<?, ?> m ? m.get("file") : null;
        Path next = file;
        if (extFile != null) {
            if (!insideLiteral(dir, String.valueOf(extFile))) {
                add(out, PolicyRule.EXTENDS_FILE, attributedTo, "extends.file '" + extFile + "'");
                return;
            }
            next = real(dir.resolve(String.valueOf(extFile)));
            if (!Files.isRegularFile(next)) {
                return; // compose itself reports the missing file
            }
        }
        checkRawService(next, base, attributedTo, out, depth + 1);
    }

    /** A path taken as written: interpolation or '~' cannot be judged before compose resolves it. */
    private boolean insideLiteral(Path dir, String path) {
        return !path.contains("$") && !path.startsWith("~") && inside(dir.resolve(path));
    }

    // ---- the normalized config ----

    /** Checks compose's normalized {@code config} output. */
    List<Violation> checkConfig(String normalized) {
        Map<String, Object> root = map(new Yaml(new SafeConstructor(options())).load(normalized));
        Map<String, Object> services = map(root.get("services"));
        Map<String, Object> volumes = map(root.get("volumes"));
        List<Violation> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : services.entrySet()) {
            String s = String.valueOf((Object) e.getKey());
            Map<String, Object> svc = map(e.getValue());
            if (Boolean.TRUE.equals(svc.get("privileged")) || "true".equals(String.valueOf(svc.get("privileged")))) {
                add(out, PolicyRule.PRIVILEGED, s, "privileged");
            }
            namespace(out, s, svc, "network_mode", PolicyRule.HOST_NETWORK);
            namespace(out, s, svc, "pid", PolicyRule.HOST_PID);
            namespace(out, s, svc, "ipc", PolicyRule.HOST_IPC);
            namespace(out, s, svc, "userns_mode", PolicyRule.HOST_USERNS);
            namespace(out, s, svc, "uts", PolicyRule.HOST_UTS);
            for (Object from : list(svc.get("volumes_from"))) {
                if (String.valueOf(from).startsWith("container:")) {
                    add(out, PolicyRule.CONTAINER_NAMESPACES, s, "volumes_from '" + from + "'");
                }
            }
            if (!list(svc.get("devices")).isEmpty()) {
                add(out, PolicyRule.DEVICES, s, "devices");
            }
            if (!list(svc.get("device_cgroup_rules")).isEmpty()) {
                add(out, PolicyRule.DEVICES, s, "device_cgroup_rules");
            }
            for (Object opt : list(svc.get("security_opt"))) {
                String o = String.valueOf(opt).toLowerCase(Locale.ROOT).replaceFirst(":", "=");
                if (UNCONFINED.contains(o)) {
                    add(out, PolicyRule.SECURITY_OPT, s, "security_opt '" + opt + "'");
                }
            }
            for (Object cap : list(svc.get("cap_add"))) {
                String c = String.valueOf(cap).toUpperCase(Locale.ROOT);
                if (!SAFE_CAPABILITIES.contains(c.startsWith("CAP_") ? c.substring(4) : c)) {
                    add(out, PolicyRule.CAP_ADD, s, "cap_add '" + cap + "'");
                }
            }
            for (Object v : list(svc.get("volumes"))) {
                volume(out, s, v, volumes);
            }
            for (Object envFile : list(svc.get("env_file"))) {
                Object p = envFile instanceof Map<?, ?> m ? m.get("path") : envFile;
                if (p != null && !inside(checkout.resolve(String.valueOf(p)))) {
                    add(out, PolicyRule.ENV_FILE, s, "env_file '" + p + "'");
                }
            }
            build(out, s, svc.get("build"));
            files(out, s, svc.get("secrets"), map(root.get("secrets")), "secrets");
            files(out, s, svc.get("configs"), map(root.get("configs")), "configs");
        }
        return out;
    }

    private void namespace(List<Violation> out, String s, Map<String, Object> svc, String key, PolicyRule hostRule) {
        Object v = svc.get(key);
        if (v == null) {
            return;
        }
        String mode = String.valueOf(v);
        if (mode.equals("host")) {
            add(out, hostRule, s, key + ": host");
        } else if (mode.startsWith("container:")) {
            add(out, PolicyRule.CONTAINER_NAMESPACES, s, key + ": " + mode);
        }
    }

    private void volume(List<Violation> out, String s, Object v, Map<String, Object> topLevel) {
        String type;
        String source;
        if (v instanceof Map<?, ?> m) {
            type = String.valueOf(m.get("type"));
            source = m.get("source") == null ? null : String.valueOf(m.get("source"));
        } else {
            String spec = String.valueOf(v);
            int colon = spec.indexOf(':');
            if (colon < 0) {
                return; // an anonymous volume: only a container path
            }
            source = spec.substring(0, colon);
            type = source.startsWith("/") || source.startsWith(".") || source.startsWith("~") ? "bind" : "volume";
        }
        if ("bind".equals(type) && source != null) {
            hostPath(out, s, source, "volumes '" + source + "'");
        } else if ("volume".equals(type) && source != null) {
            Map<String, Object> vol = map(topLevel.get(source));
            Map<String, Object> opts = map(vol.get("driver_opts"));
            Object device = opts.get("device");
            Set<String> o = Set.of(String.valueOf(opts.getOrDefault("o", "")).split(","));
            boolean binds = o.contains("bind") || o.contains("rbind");
            if (binds && device != null) {
                hostPath(out, s, String.valueOf(device), "volumes (named volume '" + source + "' binds '" + device + "')");
            } else if (binds || device != null && String.valueOf(device).startsWith("/")) {
                add(out, PolicyRule.BIND_MOUNTS, s, "volumes (named volume '" + source + "' mounts device '"
                        + device + "')");
            }
        }
    }

    private void hostPath(List<Violation> out, String s, String source, String key) {
        Path p = source.startsWith("~") ? null : checkout.resolve(source);
        if (p != null && holdsSocket(p)) {
            add(out, PolicyRule.DOCKER_SOCKET, s, key);
        } else if (p == null || !inside(p)) {
            add(out, PolicyRule.BIND_MOUNTS, s, key);
        }
    }

    private void build(List<Violation> out, String s, Object build) {
        if (build == null) {
            return;
        }
        Map<String, Object> b = build instanceof Map<?, ?> ? map(build) : Map.of("context", build);
        String context = String.valueOf(b.getOrDefault("context", "."));
        if (context.contains("://") || context.startsWith("git@") || context.startsWith("github.com/")) {
            return; // a remote context: nothing of this host
        }
        Path ctx = checkout.resolve(context);
        if (!inside(ctx)) {
            add(out, PolicyRule.BUILD_CONTEXT, s, "build.context '" + context + "'");
            return;
        }
        Object dockerfile = b.get("dockerfile");
        if (dockerfile != null && !inside(ctx.resolve(String.valueOf(dockerfile)))) {
            add(out, PolicyRule.BUILD_CONTEXT, s, "build.dockerfile '" + dockerfile + "'");
        }
    }

    private void files(List<Violation> out, String s, Object uses, Map<String, Object> topLevel, String key) {
        for (Object use : list(uses)) {
            String source = use instanceof Map<?, ?> m ? String.valueOf(m.get("source")) : String.valueOf(use);
            Object file = map(topLevel.get(source)).get("file");
            if (file != null && !inside(checkout.resolve(String.valueOf(file)))) {
                add(out, PolicyRule.SECRET_FILES, s, key + " '" + source + "' (file '" + file + "')");
            }
        }
    }

    private void add(List<Violation> out, PolicyRule rule, String service, String key) {
        if (!exceptions.getOrDefault(rule, Set.of()).contains(service)) {
            out.add(new Violation(rule, service, key));
        }
    }

    // ---- paths ----

    boolean inside(Path p) {
        return real(p).startsWith(checkout);
    }

    private boolean holdsSocket(Path p) {
        Path r = real(p);
        return dockerSockets.stream().anyMatch(sock -> sock.startsWith(r));
    }

    /**
     * The path with every symlink of its existing part followed (docker creates a missing bind source, so
     * the missing rest is taken as written, normalized).
     */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return abs;
        }
    }

    // ---- yaml ----

    static LoaderOptions options() {
        LoaderOptions o = new LoaderOptions();
        o.setAllowDuplicateKeys(false);
        o.setMaxAliasesForCollections(200);
        o.setCodePointLimit(4 * 1024 * 1024);
        return o;
    }

    /** The raw file as compose reads it (anchors and merge keys resolved). */
    private static Map<String, Object> load(Path file) {
        try (var in = Files.newBufferedReader(file)) {
            return map(new Yaml(new SafeConstructor(options())).load(in));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        } catch (RuntimeException e) {
            // Broken YAML: compose config reports it with its own message right after.
            return Map.of();
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    static List<?> list(Object o) {
        return o instanceof List<?> l ? l : o == null ? List.of() : List.of(o);
    }
}
