package dev.hostdeploy.guardian;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Private network namespaces for one test, joined by veth pairs with 10.231.x.x addresses. Every
 * firewall change a test makes happens in here, never on the host's ruleset. Close removes them all.
 */
final class NetNs implements AutoCloseable {
    private final List<String> names = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final String prefix = "hdg" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));

    String create(String role) {
        String name = prefix + role;
        run("ip", "netns", "add", name);
        names.add(name);
        exec(name, "ip", "link", "set", "lo", "up");
        return name;
    }

    /** Joins two namespaces with a veth pair: a gets 10.231.subnet.1/24, b gets 10.231.subnet.2/24. */
    void link(String a, String b, int subnet, String aIfName) {
        String va = prefix.substring(3) + "a" + subnet;
        String vb = prefix.substring(3) + "b" + subnet;
        run("ip", "link", "add", va, "netns", a, "type", "veth", "peer", "name", vb, "netns", b);
        if (aIfName != null) {
            exec(a, "ip", "link", "set", va, "name", aIfName);
            va = aIfName;
        }
        exec(a, "ip", "addr", "add", "10.231." + subnet + ".1/24", "dev", va);
        exec(b, "ip", "addr", "add", "10.231." + subnet + ".2/24", "dev", vb);
        exec(a, "ip", "link", "set", va, "up");
        exec(b, "ip", "link", "set", vb, "up");
    }

    List<String> nft(String ns) {
        return List.of("ip", "netns", "exec", ns, "nft");
    }

    /** A busybox web server in the namespace serving one file whose content is {@code body}. */
    void httpd(String ns, String address, int port, String body) throws IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("hdg-www");
        java.nio.file.Files.writeString(dir.resolve("index.html"), body);
        dir.toFile().deleteOnExit();
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", address + ":" + port,
                "-h", dir.toString()).redirectErrorStream(true).start();
        processes.add(p);
        // wait until it listens (from inside its own namespace, where no firewall of ours applies to lo)
        await("httpd to start in " + ns).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> fetch(ns, address, port, 1) != null);
    }

    /** GET http://address:port/ from inside {@code ns}; null when the connection fails or times out. */
    String fetch(String ns, String address, int port, int timeoutSeconds) {
        Result r = execResult(ns, "curl", "-s", "--noproxy", "*", "-m", Integer.toString(timeoutSeconds),
                "http://" + address + ":" + port + "/");
        return r.exit == 0 ? r.out : null;
    }

    record Result(int exit, String out) {
    }

    String exec(String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return run(c.toArray(String[]::new));
    }

    Result execResult(String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return runResult(c.toArray(String[]::new));
    }

    static String run(String... cmd) {
        Result r = runResult(cmd);
        if (r.exit != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.out);
        }
        return r.out;
    }

    static Result runResult(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (String n : names) {
            runResult("ip", "netns", "pids", n).out().lines().forEach(pid -> runResult("kill", "-9", pid.strip()));
            runResult("ip", "netns", "del", n);
        }
    }
}
