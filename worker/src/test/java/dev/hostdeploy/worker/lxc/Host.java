package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The host's own tools (the real lxc CLI, ssh, ssh-keygen), used to check what the Worker did. */
final class Host {
    static final String BUSYBOX = "hd-busybox";
    static final String DEBIAN = "hd-debian";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Host() {
    }

    record Result(int code, String out) {
    }

    static Result run(List<String> cmd, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs the lxc CLI and returns its output; fails the test on a non-zero exit. */
    static String lxc(String... args) {
        List<String> cmd = new ArrayList<>(List.of("lxc"));
        cmd.addAll(List.of(args));
        Result r = run(cmd, 120);
        assertThat(r.code()).as("lxc %s: %s", String.join(" ", args), r.out()).isZero();
        return r.out();
    }

    /** A command's output inside a container, through the real lxc CLI. */
    static String exec(String container, String... command) {
        List<String> args = new ArrayList<>(List.of("exec", container, "--"));
        args.addAll(List.of(command));
        return lxc(args.toArray(String[]::new));
    }

    /**
     * Output of a command that always prints something, read inside a container. LXD 5.0's non-interactive
     * `lxc exec` occasionally exits 0 with its output lost (seen here once in a few hundred runs), so a
     * blank answer is asked again; the commands read state and are safe to repeat.
     */
    static String read(String container, String... command) {
        String out = "";
        for (int attempt = 0; attempt < 3 && out.isBlank(); attempt++) {
            out = exec(container, command);
        }
        return out;
    }

    /** The memory limit the host kernel enforces on a container (cgroup v2 or v1 hosts). */
    static long memoryLimit(String container) {
        for (String f : List.of("/sys/fs/cgroup/lxc.payload." + container + "/memory.max",
                "/sys/fs/cgroup/memory/lxc.payload." + container + "/memory.limit_in_bytes")) {
            java.nio.file.Path p = java.nio.file.Path.of(f);
            if (java.nio.file.Files.exists(p)) {
                try {
                    return Long.parseLong(java.nio.file.Files.readString(p).strip());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new AssertionError("no memory cgroup found for " + container);
    }

    /** The host uid that root (uid 0) of a running container is, from its init's uid_map. */
    static long hostUidOfRoot(String container) {
        String pid = lxc("list", container, "-c", "p", "--format", "csv").strip();
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", pid, "uid_map"))) {
                String[] f = line.strip().split("\\s+");
                if (f[0].equals("0")) {
                    return Long.parseLong(f[1]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("uid 0 is not mapped in " + container);
    }

    static boolean exists(String container) {
        return run(List.of("lxc", "info", container), 60).code() == 0;
    }

    static void deleteQuietly(String container) {
        run(List.of("lxc", "delete", "--force", container), 120);
    }

    /** A fresh container name, so a crashed earlier run never collides with this one. */
    static String name(String prefix) {
        byte[] b = new byte[3];
        RANDOM.nextBytes(b);
        return prefix + "-" + HexFormat.of().formatHex(b);
    }
}
