package dev.hostdeploy.worker.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs git and compose as argument lists (never through a shell), streams their merged output line by
 * line (git's '\r' progress updates count as lines) and keeps the last lines for error messages.
 */
final class Proc {
    static final int TAIL = 25;

    /** The outcome of a process; {@code tail} holds its last output lines, already redacted. */
    record Result(int exit, List<String> tail, boolean timedOut) {
        boolean ok() {
            return exit == 0 && !timedOut;
        }

        String tailText() {
            return String.join("\n", tail);
        }
    }

    private final Consumer<List<String>> onStart;

    /** @param onStart told of every command before it starts (an audit hook: tests count git and compose calls) */
    Proc(Consumer<List<String>> onStart) {
        this.onStart = onStart;
    }

    /**
     * The Worker's own variables a child process keeps (operator configuration: where docker's and git's
     * config live, proxies, the ssh agent). Everything else in the Worker's environment stays out, and
     * deployment variables never enter it: compose gets them through its env file.
     */
    static final List<String> KEPT = List.of("PATH", "HOME", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "TMPDIR",
            "SSH_AUTH_SOCK", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY");

    /**
     * Runs a command in a clean environment: {@link #KEPT}, {@code LC_ALL=C} (and for git
     * {@code GIT_TERMINAL_PROMPT=0}), plus {@code env}.
     */
    Result run(List<String> command, Path dir, Map<String, String> env, Duration timeout, Redactor redactor,
               Consumer<String> lines) {
        return run(command, dir, env, timeout, redactor, lines, null);
    }

    /** The clean environment {@link #run} starts {@code command} in, {@code env} included. */
    static Map<String, String> environment(List<String> command, Map<String, String> env) {
        Map<String, String> environment = new HashMap<>();
        for (String k : KEPT) {
            if (System.getenv(k) != null) {
                environment.put(k, System.getenv(k));
            }
        }
        environment.putIfAbsent("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        environment.put("LC_ALL", "C");
        if (command.get(0).equals("git")) {
            environment.put("GIT_TERMINAL_PROMPT", "0");
        }
        environment.putAll(env);
        return environment;
    }

    /**
     * @param stdout when given, receives the process's standard output whole (stderr alone goes to
     *               {@code lines} and the tail); when null both streams are merged
     */
    Result run(List<String> command, Path dir, Map<String, String> env, Duration timeout, Redactor redactor,
               Consumer<String> lines, StringBuilder stdout) {
        onStart.accept(List.copyOf(command));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(stdout == null);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Map<String, String> environment = pb.environment();
        environment.clear();
        environment.putAll(environment(command, env));
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
        Thread out = null;
        if (stdout != null) {
            out = new Thread(() -> {
                try (InputStream in = p.getInputStream()) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    synchronized (stdout) {
                        stdout.append(text);
                    }
                } catch (IOException e) {
                    // The process died or was killed; the caller sees its exit status.
                }
            }, "proc-out-" + command.get(0));
            out.setDaemon(true);
            out.start();
        }
        InputStream merged = stdout == null ? p.getInputStream() : p.getErrorStream();
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = new Thread(() -> pump(merged, line -> {
            String safe = redactor.apply(line);
            synchronized (tail) {
                if (tail.size() == TAIL) {
                    tail.removeFirst();
                }
                tail.addLast(safe);
            }
            if (lines != null) {
                lines.accept(safe);
            }
        }), "proc-" + command.get(0));
        reader.setDaemon(true);
        reader.start();
        boolean timedOut = false;
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(5_000);
            if (out != null) {
                out.join(5_000);
            }
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.get(0), e);
        }
        List<String> last;
        synchronized (tail) {
            last = new ArrayList<>(tail);
        }
        return new Result(timedOut ? -1 : p.exitValue(), last, timedOut);
    }

    /** Runs quietly and returns stdout+stderr whole (for short machine-readable output such as ls-remote). */
    Result capture(List<String> command, Path dir, Map<String, String> env, Duration timeout, List<String> out) {
        return run(command, dir, env, timeout, Redactor.NONE, out::add);
    }

    private static void pump(InputStream in, Consumer<String> lines) {
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            StringBuilder sb = new StringBuilder();
            char[] buf = new char[8192];
            int n;
            while ((n = r.read(buf)) >= 0) {
                for (int i = 0; i < n; i++) {
                    char c = buf[i];
                    if (c == '\n' || c == '\r') {
                        if (!sb.isEmpty()) {
                            lines.accept(sb.toString());
                            sb.setLength(0);
                        }
                    } else if (sb.length() < 4096) {
                        sb.append(c);
                    }
                }
            }
            if (!sb.isEmpty()) {
                lines.accept(sb.toString());
            }
        } catch (IOException e) {
            // The process died or was killed; what was read is kept.
        }
    }
}
