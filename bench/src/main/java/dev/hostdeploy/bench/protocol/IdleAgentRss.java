package dev.hostdeploy.bench.protocol;

import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts the real Worker jar ({@code run}) with -Xmx64m as a separate process, connects a Manager, makes a
 * few calls, lets it idle, and prints its resident set size from /proc. Target: <= 96 MB.
 */
public final class IdleAgentRss {
    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Path dir = work.resolve("worker-id");
        Path jar = Path.of("worker/target/hostdeploy-worker.jar");
        Identity manager = Identity.generate("bench-manager");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> base = List.of(java, "-jar", jar.toString());
        exec(concat(base, "init", "--dir", dir.toString()));
        exec(concat(base, "trust", "--dir", dir.toString(), "--name", "manager", "--fingerprint", manager.fingerprint()));
        String agentFp = Identity.load(dir).fingerprint();
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.createDirectories(work.resolve("deploy"));
        Files.createDirectories(work.resolve("backups"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xss512k", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=64m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-jar", jar.toString(), "run",
                "--dir", dir.toString(), "--listen", "127.0.0.1:" + port,
                "--deploy-root", work.resolve("deploy").toString(), "--backup-root", work.resolve("backups").toString(),
                "--allowed-org", "bench"));
        Process agent = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.resolve("agent.log").toFile()).start();
        try (AgentClient client = AgentClient.builder(URI.create("wss://127.0.0.1:" + port + AgentServer.PATH), manager,
                TrustPolicy.exactly(List.of(agentFp))).backoff(new dev.hostdeploy.protocol.Backoff(Duration.ofMillis(200), Duration.ofSeconds(1))).build()) {
            client.start();
            if (!client.awaitConnected(Duration.ofSeconds(30))) {
                throw new IllegalStateException("worker did not accept the connection: " + client.lastFailure()
                        + "\n" + Files.readString(work.resolve("agent.log")));
            }
            for (int i = 0; i < 1000; i++) {
                client.call("ping", null).get(10, TimeUnit.SECONDS);
            }
            Thread.sleep(10_000);
            long rssKb = rss(agent.pid());
            System.out.printf("%nIdle Worker agent (-Xmx64m, Manager connected, after 1,000 pings and 10 s idle): "
                    + "RSS %.1f MB (target <= 96 MB: %s)%n", rssKb / 1024.0, rssKb <= 96 * 1024 ? "MET" : "MISSED");
        } finally {
            agent.destroy();
            agent.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static List<String> concat(List<String> base, String... more) {
        List<String> l = new ArrayList<>(base);
        l.addAll(List.of(more));
        return l;
    }

    private static void exec(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(cmd + " failed: " + out);
        }
    }

    private static long rss(long pid) throws Exception {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                Files.newInputStream(Path.of("/proc", Long.toString(pid), "status")), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
