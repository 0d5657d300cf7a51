package dev.hostdeploy.bench.manager;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 6's benchmark. A real Manager (its own JVM, embedded store, production JVM flags) with two hosts
 * whose Worker and Guardian are real agent servers over mutual TLS on loopback; the Workers report
 * 10,000 deployment and container records in all. Then wrk against GET /api/v1/stats and
 * GET /api/v1/health, and the Manager's RSS.
 *
 * <p>Targets: >= 5,000 requests/s and p99 <= 20 ms on this 2-core machine; RSS <= 256 MB.
 */
public final class ManagerBench {
    static final int HOSTS = 2;
    static final int WARMUP_SECONDS = 10;
    static final int RECORDS = 10_000;
    static final double TARGET_RPS = 5_000;
    static final double TARGET_P99_MS = 20;
    static final double TARGET_RSS_MB = 256;
    /** The flags the Dockerfile runs the Manager with. */
    static final List<String> JVM_FLAGS = List.of("-Xmx96m", "-XX:+UseSerialGC", "-Xss512k",
            "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=96m",
            "-Dio.netty.allocator.type=unpooled");

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static int connections = 8;

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("manager-bench");
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        connections = args.length > 1 ? Integer.parseInt(args[1]) : connections;
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path identityDir = work.resolve("identity");
        String managerFp = Identity.loadOrCreate(identityDir, "hostdeploy-manager").fingerprint();

        List<AgentServer> agents = new ArrayList<>();
        List<Map<String, Object>> hosts = new ArrayList<>();
        int perHost = RECORDS / HOSTS / 2;
        for (int h = 0; h < HOSTS; h++) {
            Identity w = Identity.generate("worker-" + h);
            Identity g = Identity.generate("guardian-" + h);
            AgentServer worker = AgentServer.builder(w, TrustPolicy.exactly(List.of(managerFp)), workerHandlers(h, perHost))
                    .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("bench").build();
            AgentServer guardian = AgentServer.builder(g, TrustPolicy.exactly(List.of(managerFp)), guardianHandlers())
                    .listen(new InetSocketAddress("127.0.0.1", 0)).kind("guardian").version("bench").build();
            worker.start();
            guardian.start();
            agents.add(worker);
            agents.add(guardian);
            hosts.add(Map.of("name", "host-" + h,
                    "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", w.fingerprint()),
                    "guardian", Map.of("address", "127.0.0.1:" + guardian.port(), "fingerprint", g.fingerprint())));
        }

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String flags = System.getenv("MANAGER_JVM_FLAGS");
        List<String> jvmFlags = flags == null || flags.isBlank() ? JVM_FLAGS : List.of(flags.trim().split("\\s+"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
                "dev.hostdeploy.manager.ManagerMain", "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.resolve("manager.log").toFile());
        // As in the Dockerfile: two malloc arenas instead of one per thread keeps native memory small.
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        pb.environment().put("HOSTDEPLOY_LISTEN", "127.0.0.1:" + port);
        pb.environment().put("HOSTDEPLOY_DIR", identityDir.toString());
        pb.environment().put("HOSTDEPLOY_DATA_DIR", work.resolve("data").toString());
        Process manager = pb.start();
        String base = "http://127.0.0.1:" + port + "/api/v1";
        try {
            waitFor(() -> get(base + "/health", null).statusCode() == 200, manager, work);
            String token = Files.readString(work.resolve("data/admin-token")).trim();
            for (Map<String, Object> host : hosts) {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/hosts"))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(host))).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 201) {
                    throw new IllegalStateException("register host: " + r.body());
                }
            }
            waitFor(() -> Json.MAPPER.readTree(get(base + "/health", null).body()).at("/agents/connected").asInt()
                    == HOSTS * 2, manager, work);
            waitFor(() -> {
                JsonNode totals = Json.MAPPER.readTree(get(base + "/stats", token).body()).get("totals");
                long n = 0;
                for (JsonNode c : totals.get("deployments")) {
                    n += c.asLong();
                }
                for (JsonNode c : totals.get("containers")) {
                    n += c.asLong();
                }
                return n == RECORDS;
            }, manager, work);
            System.out.printf("Manager benchmark: %d hosts (Worker + Guardian each, mutual TLS on loopback), "
                    + "%,d deployment and container records, JVM %s%n", HOSTS, RECORDS, String.join(" ", jvmFlags));

            wrk(base + "/health", null, WARMUP_SECONDS);
            Result health = wrk(base + "/health", null, seconds);
            wrk(base + "/stats", token, WARMUP_SECONDS);
            Result stats = wrk(base + "/stats", token, seconds);
            // Settle, then read RSS as a scrape would see it between bursts.
            Thread.sleep(2000);
            double rssMb = rssKb(manager.pid()) / 1024.0;

            System.out.println();
            System.out.printf("%-30s %14s %14s %8s%n", "measure", "measured", "target", "verdict");
            row("GET /api/v1/health req/s", health.rps(), ">= 5,000", health.rps() >= TARGET_RPS);
            row("GET /api/v1/health p99 ms", health.p99Ms(), "<= 20", health.p99Ms() <= TARGET_P99_MS);
            row("GET /api/v1/stats req/s", stats.rps(), ">= 5,000", stats.rps() >= TARGET_RPS);
            row("GET /api/v1/stats p99 ms", stats.p99Ms(), "<= 20", stats.p99Ms() <= TARGET_P99_MS);
            row("Manager RSS MB (10k records)", rssMb, "<= 256", rssMb <= TARGET_RSS_MB);
            System.out.printf("(wrk -t2 -c%d -d%ds --latency; non-2xx responses: health %d, stats %d; Manager log %s)%n",
                    connections, seconds, health.errors(), stats.errors(), work.resolve("manager.log"));
        } finally {
            manager.destroy();
            manager.waitFor(20, TimeUnit.SECONDS);
            for (AgentServer a : agents) {
                a.close();
            }
        }
        System.exit(0);
    }

    private static void row(String name, double value, String target, boolean ok) {
        System.out.printf("%-30s %,14.1f %14s %8s%n", name, value, target, ok ? "PASS" : "MISS");
    }

    private static HandlerRegistry workerHandlers(int host, int perHost) {
        List<Map<String, Object>> deployments = new ArrayList<>();
        List<Map<String, Object>> containers = new ArrayList<>();
        for (int i = 0; i < perHost; i++) {
            deployments.add(Map.of("name", "app-" + host + "-" + i, "repo", "testausserveri/app-" + i,
                    "status", i % 10 == 0 ? "stopped" : "running", "commit", "0123456789abcdef0123456789abcdef01234567"));
            containers.add(Map.of("name", "member-" + host + "-" + i, "owner", "user" + i,
                    "status", i % 4 == 0 ? "Stopped" : "Running"));
        }
        Map<String, Object> deployList = Map.of("deployments", deployments);
        Map<String, Object> lxcList = Map.of("containers", containers);
        return new HandlerRegistry()
                // The Worker's own host.stats shape.
                .register("host.stats", ctx -> Map.ofEntries(Map.entry("load1", 0.4), Map.entry("load5", 0.3),
                        Map.entry("load15", 0.2), Map.entry("cpus", 2), Map.entry("memoryTotalBytes", 16L << 30),
                        Map.entry("memoryAvailableBytes", 9L << 30), Map.entry("diskPath", "/srv/deploy"),
                        Map.entry("diskTotalBytes", 500L << 30), Map.entry("diskFreeBytes", 200L << 30),
                        Map.entry("containersRunning", perHost), Map.entry("containersTotal", perHost + 3)))
                .register("deploy.list", ctx -> deployList)
                .register("lxc.list", ctx -> lxcList);
    }

    private static HandlerRegistry guardianHandlers() {
        return new HandlerRegistry()
                .register("firewall.list", ctx -> Map.of("rules", List.of(
                        Map.of("protocol", "tcp", "port", 443, "owner", "deploy:web"),
                        Map.of("protocol", "tcp", "ports", "20000-20999", "owner", "lxc:pool")), "forwards", List.of()))
                .register("firewall.status", ctx -> Map.of("table", true, "rules", 2, "forwards", 0, "drift", List.of()));
    }

    record Result(double rps, double p99Ms, long errors) {
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern P99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)");
    private static final Pattern NON2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");

    static Result wrk(String url, String token, int seconds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency"));
        if (token != null) {
            cmd.addAll(List.of("-H", "Authorization: Bearer " + token));
        }
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Matcher rps = RPS.matcher(out);
        Matcher p99 = P99.matcher(out);
        if (!rps.find() || !p99.find()) {
            throw new IllegalStateException("cannot read wrk output:\n" + out);
        }
        double latency = Double.parseDouble(p99.group(1));
        latency = switch (p99.group(2)) {
            case "us" -> latency / 1000;
            case "s" -> latency * 1000;
            default -> latency;
        };
        Matcher errors = NON2XX.matcher(out);
        return new Result(Double.parseDouble(rps.group(1)), latency, errors.find() ? Long.parseLong(errors.group(1)) : 0);
    }

    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    private static HttpResponse<String> get(String url, String token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check check, Process manager, Path work) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!manager.isAlive()) {
                throw new IllegalStateException("Manager exited:\n" + Files.readString(work.resolve("manager.log")));
            }
            try {
                if (check.ok()) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("timed out; Manager log:\n" + Files.readString(work.resolve("manager.log")));
    }
}
