package dev.hostdeploy.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Issue 10's "anonymous requests fill the database" measure. A real Manager (own JVM, embedded store,
 * the Dockerfile's JVM flags) on loopback; for DURATION seconds anonymous POST /api/v1/users as fast as
 * wrk (or, without wrk, a Java loop) sends them, a quarter of them with a wrong token. Meanwhile an
 * admin calls an authenticated route every second. Then: requests/s, growth of the data directory,
 * how many audit entries the refusals left, and whether every authenticated route still answers.
 *
 * <p>Targets: growth bounded (refusals summed: at most one audit entry per address, reason and minute,
 * so the data directory grows by well under 16 MB however long the flood lasts), every authenticated
 * route answers during and after the flood, /health stays 200.
 */
public final class AnonFloodBench {
    static final List<String> JVM_FLAGS = List.of("-Xmx96m", "-XX:+UseSerialGC", "-Xss512k",
            "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=96m",
            "-Dio.netty.allocator.type=unpooled", "-XX:+ExitOnOutOfMemoryError");
    static final double TARGET_GROWTH_MB = 16;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(System.getenv().getOrDefault("DURATION", "60"));
        int connections = Integer.parseInt(System.getenv().getOrDefault("CONNECTIONS", "16"));
        Path work = Files.createTempDirectory("anon-flood");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
                "dev.hostdeploy.manager.ManagerMain", "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("manager.log").toFile());
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        pb.environment().put("HOSTDEPLOY_LISTEN", "127.0.0.1:" + port);
        pb.environment().put("HOSTDEPLOY_DIR", work.resolve("identity").toString());
        pb.environment().put("HOSTDEPLOY_DATA_DIR", work.resolve("data").toString());
        Process manager = pb.start();
        String base = "http://127.0.0.1:" + port + "/api/v1";
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!healthy(base)) {
                if (!manager.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("Manager did not start; see " + work.resolve("manager.log"));
                }
                Thread.sleep(200);
            }
            String token = Files.readString(work.resolve("data/admin-token")).trim();
            Thread.sleep(2000);
            long before = size(work.resolve("data"));

            // An admin at work during the flood: one authenticated request a second, each must answer 200.
            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong adminOk = new AtomicLong();
            AtomicLong adminFailed = new AtomicLong();
            AtomicLong healthBad = new AtomicLong();
            Thread admin = new Thread(() -> {
                while (flooding.get()) {
                    try {
                        (status(base + "/users", token) == 200 ? adminOk : adminFailed).incrementAndGet();
                        if (status(base + "/health", null) != 200) {
                            healthBad.incrementAndGet();
                        }
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        adminFailed.incrementAndGet();
                    }
                }
            });
            admin.start();
            Flood flood = hasWrk() ? wrk(base + "/users", seconds, connections, work)
                    : javaLoop(base + "/users", seconds, connections);
            flooding.set(false);
            admin.join();
            // Let the summed refusals be written, then measure.
            Thread.sleep(6000);
            long after = size(work.resolve("data"));
            double growthMb = (after - before) / 1048576.0;

            List<String> routes = List.of("/me", "/users", "/hosts", "/stats", "/audit?limit=5", "/metrics", "/health");
            List<String> failing = new ArrayList<>();
            for (String r : routes) {
                int s = status(base + r, token);
                if (s != 200) {
                    failing.add(r + " " + s);
                }
            }
            int created = post(base + "/users", token, "{\"name\": \"after-flood\"}");
            if (created != 201) {
                failing.add("POST /users " + created);
            }
            long refusedEntries = 0;
            long refusedCounted = 0;
            for (JsonNode e : Json.MAPPER.readTree(get(base + "/audit?actor=anonymous&limit=1000", token))) {
                if (e.path("action").asText().equals("auth.refused")) {
                    refusedEntries++;
                    refusedCounted += e.path("count").asLong();
                }
            }
            String metrics = get(base + "/metrics", token);
            double metricRefused = metric(metrics, "hostdeploy_http_refused_total{reason=\"unauthorized\"}")
                    + metric(metrics, "hostdeploy_http_refused_total{reason=\"too_many_requests\"}");
            double rssMb = rssKb(manager.pid()) / 1024.0;
            long minutes = Math.max(1, (seconds + 59) / 60 + 1);

            System.out.printf("Anonymous flood: %d s of POST /api/v1/users without a token (1 in 4 with a wrong one), "
                    + "%s, %d connections, loopback; Manager JVM %s%n", seconds, flood.tool(), connections,
                    String.join(" ", JVM_FLAGS));
            System.out.println();
            System.out.printf("%-42s %16s %22s %8s%n", "measure", "measured", "target", "verdict");
            row("refused requests/s sustained", String.format("%,.0f", flood.rps()), "(figure)", true);
            row("requests sent", String.format("%,d", flood.requests()), "(figure)", true);
            row("refused counted (metric)", String.format("%,.0f", metricRefused), "(figure)", true);
            row("refused summed in audit (sum of count)", String.format("%,d", refusedCounted), "(figure)", true);
            row("audit entries the refusals left", Long.toString(refusedEntries),
                    "<= " + 2 * minutes + " (addr x reason x min)", refusedEntries <= 2 * minutes);
            row("data directory growth MB", String.format("%.1f", growthMb), "<= " + (int) TARGET_GROWTH_MB,
                    growthMb <= TARGET_GROWTH_MB);
            row("admin GET /users during flood ok/failed", adminOk.get() + "/" + adminFailed.get(), "all ok",
                    adminFailed.get() == 0 && adminOk.get() > 0);
            row("/health not 200 during flood", Long.toString(healthBad.get()), "0", healthBad.get() == 0);
            row("authenticated routes after flood", failing.isEmpty() ? "all 200/201" : String.join(", ", failing),
                    "all answer", failing.isEmpty());
            row("Manager RSS MB", String.format("%.0f", rssMb), "(figure)", true);
            System.out.printf("(data directory %s: %.1f MB before, %.1f MB after; Manager log %s)%n", work.resolve("data"),
                    before / 1048576.0, after / 1048576.0, work.resolve("manager.log"));
        } finally {
            manager.destroy();
            manager.waitFor(20, TimeUnit.SECONDS);
        }
        System.exit(0);
    }

    record Flood(String tool, double rps, long requests) {
    }

    private static void row(String name, String value, String target, boolean ok) {
        System.out.printf("%-42s %16s %22s %8s%n", name, value, target, ok ? "PASS" : "MISS");
    }

    private static boolean hasWrk() {
        try {
            return new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start().waitFor() >= 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern TOTAL = Pattern.compile("(\\d+) requests in");

    static Flood wrk(String url, int seconds, int connections, Path work) throws IOException, InterruptedException {
        Path script = work.resolve("flood.lua");
        Files.writeString(script, """
                local n = 0
                request = function()
                  n = n + 1
                  local headers = { ["Content-Type"] = "application/json" }
                  if n % 4 == 0 then headers["Authorization"] = "Bearer hd_guess" .. n end
                  return wrk.format("POST", nil, headers, '{"name": "mallory"}')
                end
                """);
        Process p = new ProcessBuilder("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "-s", script.toString(), url)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Matcher rps = RPS.matcher(out);
        Matcher total = TOTAL.matcher(out);
        if (!rps.find() || !total.find()) {
            throw new IllegalStateException("unexpected wrk output:\n" + out);
        }
        return new Flood("wrk -t2", Double.parseDouble(rps.group(1)), Long.parseLong(total.group(1)));
    }

    static Flood javaLoop(String url, int seconds, int connections) throws InterruptedException {
        AtomicLong sent = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < connections; t++) {
            Thread th = new Thread(() -> {
                while (System.nanoTime() < end) {
                    long n = sent.incrementAndGet();
                    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"mallory\"}"));
                    if (n % 4 == 0) {
                        b.header("Authorization", "Bearer hd_guess" + n);
                    }
                    try {
                        HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding());
                    } catch (IOException e) {
                        // Counted as sent; the verdict comes from the routes afterwards.
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        return new Flood("Java HttpClient loop", sent.get() / (double) seconds, sent.get());
    }

    static boolean healthy(String base) {
        try {
            return status(base + "/health", null) == 200;
        } catch (RuntimeException e) {
            return false;
        }
    }

    static int status(String url, String token) {
        return send(url, token, null).statusCode();
    }

    static String get(String url, String token) {
        return send(url, token, null).body();
    }

    static int post(String url, String token, String body) {
        return send(url, token, body).statusCode();
    }

    static HttpResponse<String> send(String url, String token, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static double metric(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.E+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    private AnonFloodBench() {
    }
}
