package dev.hostdeploy.bench.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.guardian.ingress.CaddyAdmin;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ingress benchmark (issue 15) against real Caddy processes on loopback:
 * <ol>
 *   <li>route added -> first HTTPS answer ({@code tls internal}, certificate issued on the way) through
 *       a real Guardian ({@code ingress.set}, one whole-config load), beside a hand-made Caddyfile
 *       site added with {@code caddy reload};</li>
 *   <li>500 routes: set one by one through the Guardian, then applied in one load (the Guardian's repair
 *       after a Caddy restart), with the time and Caddy's RSS;</li>
 *   <li>proxy overhead per request: wrk against the upstream directly and through Caddy (a tls off route).</li>
 * </ol>
 * Args: NAMESPACE (for the Guardian's nft) [ROUNDS] [ROUTES].
 */
public final class IngressBench {
    private static final List<Process> PROCESSES = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        String ns = args[0];
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int many = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> PROCESSES.forEach(Process::destroyForcibly)));
        try {
            run(ns, rounds, many);
        } finally {
            PROCESSES.forEach(Process::destroy);
        }
    }

    private static void run(String ns, int rounds, int many) throws Exception {
        // The upstream: a Caddy answering a fixed body, so the proxy's cost is not hidden behind a slow app.
        int upPort = freePort();
        Caddy upstream = new Caddy("upstream");
        upstream.admin.load(Json.MAPPER.readTree("{\"admin\":{\"listen\":\"" + upstream.admin.listen() + "\"},"
                + "\"apps\":{\"http\":{\"servers\":{\"up\":{\"listen\":[\"127.0.0.1:" + upPort + "\"],"
                + "\"routes\":[{\"handle\":[{\"handler\":\"static_response\",\"body\":\"hello from upstream\"}]}]}}}}}"));

        Caddy front = new Caddy("front");
        Identity manager = Identity.generate("bench-manager");
        Identity gid = Identity.generate("bench-guardian");
        Path state = Files.createTempDirectory("ingress-bench-state");
        try (GuardianAgent g = GuardianAgent.builder(gid, TrustPolicy.exactly(List.of(manager.fingerprint())), state)
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft")).checkInterval(Duration.ofHours(1))
                .caddyAdmin(front.admin.address()).httpPort(front.httpPort).httpsPort(front.httpsPort).build()) {
            g.start();
            try (AgentClient c = AgentClient.builder(URI.create("wss://127.0.0.1:" + g.port() + "/hostdeploy/v1"), manager,
                    TrustPolicy.exactly(List.of(gid.fingerprint()))).requestTimeout(Duration.ofMinutes(5)).build()) {
                c.start();
                if (!c.awaitConnected(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("could not connect to the guardian");
                }
                // warm-up: the local CA is created with the first internal certificate
                set(c, "warmup.test", upPort, "internal");
                awaitHttps(front, "warmup.test", Duration.ofSeconds(60));
                call(c, "ingress.remove", Json.MAPPER.readTree("{\"host\":\"warmup.test\"}"));

                // 1. route added -> first HTTPS answer
                double[] guardian = new double[rounds];
                for (int i = 0; i < rounds; i++) {
                    String host = "g" + i + ".test";
                    long t0 = System.nanoTime();
                    set(c, host, upPort, "internal");
                    awaitHttps(front, host, Duration.ofSeconds(60));
                    guardian[i] = (System.nanoTime() - t0) / 1e6;
                }
                double[] caddyfile = caddyfileReload(upPort, rounds);

                // 2. many routes: one by one through the Guardian, then in one load after a Caddy restart
                call(c, "ingress.remove", Json.MAPPER.readTree("{\"owner\":\"manual/bench\"}"));
                long t0 = System.nanoTime();
                for (int i = 0; i < many; i++) {
                    set(c, "r" + i + ".bench.test", upPort, "internal");
                }
                double oneByOne = (System.nanoTime() - t0) / 1e9;
                awaitHttps(front, "r" + (many - 1) + ".bench.test", Duration.ofMinutes(5));
                long rssAfterSets = front.rssKb();
                front.restart();
                long rssEmpty = front.rssKb();
                t0 = System.nanoTime();
                List<String> repaired = g.checkNow(); // one POST /load of every route
                double oneLoad = (System.nanoTime() - t0) / 1e6;
                awaitHttps(front, "r" + (many - 1) + ".bench.test", Duration.ofMinutes(5));
                double servedAfterRestart = (System.nanoTime() - t0) / 1e6;
                Thread.sleep(5000);
                long rssLoaded = front.rssKb();

                // 3. proxy overhead
                call(c, "ingress.set", Json.MAPPER.readTree("{\"host\":\"plain.test\",\"upstream\":\"127.0.0.1:" + upPort
                        + "\",\"owner\":\"manual/bench\",\"tls\":\"off\"}"));
                String direct = wrk("http://127.0.0.1:" + upPort + "/", null);
                String via = wrk("http://127.0.0.1:" + front.httpPort + "/", "plain.test");

                Arrays.sort(guardian);
                Arrays.sort(caddyfile);
                System.out.println();
                System.out.println("Ingress benchmark (Caddy " + version() + ", " + Runtime.getRuntime().availableProcessors()
                        + " cores, shared machine)");
                System.out.println();
                System.out.printf("route added -> first HTTPS answer (tls internal, %d new hostnames each)%n", rounds);
                System.out.printf("  Guardian ingress.set (one POST /load)  median %7.0f ms   max %7.0f ms   all %s%n",
                        guardian[rounds / 2], guardian[rounds - 1], fmt(guardian));
                System.out.printf("  hand-made Caddyfile + caddy reload     median %7.0f ms   max %7.0f ms   all %s%n",
                        caddyfile[rounds / 2], caddyfile[rounds - 1], fmt(caddyfile));
                System.out.println();
                System.out.printf("%d routes (tls internal)%n", many);
                System.out.printf("  set one by one through the Guardian: %.1f s (%.1f ms per route, each a whole-config load)%n",
                        oneByOne, oneByOne * 1000 / many);
                System.out.printf("  after a Caddy restart, the Guardian's repair (GET /config/ + one POST /load): %.0f ms; "
                        + "last route answering HTTPS %.0f ms after it started%n", oneLoad, servedAfterRestart);
                System.out.printf("  Caddy RSS: %d MiB empty (just restarted), %d MiB with %d routes loaded (+5 s), "
                        + "%d MiB after the one-by-one sets%n", rssEmpty / 1024, rssLoaded / 1024, many, rssAfterSets / 1024);
                System.out.println("  repaired: " + repaired);
                System.out.println();
                System.out.println("proxy overhead (wrk -t2 -c32 -d10s, plain HTTP, static 19-byte body)");
                System.out.println("  upstream directly : " + direct);
                System.out.println("  through Caddy     : " + via);
            }
        }
    }

    private static String fmt(double[] a) {
        StringBuilder sb = new StringBuilder();
        for (double x : a) {
            sb.append(sb.length() == 0 ? "" : " ").append(Math.round(x));
        }
        return sb.toString();
    }

    /** Adds {@code rounds} sites to a Caddyfile one at a time, each with {@code caddy reload}, timing to the first HTTPS answer. */
    private static double[] caddyfileReload(int upPort, int rounds) throws Exception {
        Caddy cf = new Caddy("caddyfile");
        Path file = cf.dir.resolve("Caddyfile");
        StringBuilder sites = new StringBuilder();
        String global = "{\n\tadmin " + cf.admin.address() + "\n\thttp_port " + cf.httpPort + "\n\thttps_port " + cf.httpsPort
                + "\n\tskip_install_trust\n}\n";
        // warm-up: the local CA
        sites.append("https://warm.test:" + cf.httpsPort + " {\n\ttls internal\n\treverse_proxy 127.0.0.1:" + upPort + "\n}\n");
        Files.writeString(file, global + sites);
        reload(cf, file);
        awaitHttps(cf, "warm.test", Duration.ofSeconds(60));
        double[] out = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            String host = "c" + i + ".test";
            long t0 = System.nanoTime();
            sites.append("https://" + host + ":" + cf.httpsPort + " {\n\ttls internal\n\treverse_proxy 127.0.0.1:" + upPort + "\n}\n");
            Files.writeString(file, global + sites);
            reload(cf, file);
            awaitHttps(cf, host, Duration.ofSeconds(60));
            out[i] = (System.nanoTime() - t0) / 1e6;
        }
        cf.stop();
        return out;
    }

    private static void reload(Caddy c, Path file) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("caddy", "reload", "--config", file.toString(), "--adapter", "caddyfile",
                "--address", c.admin.address()).redirectErrorStream(true);
        c.env(pb);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("caddy reload failed: " + out);
        }
    }

    private static void set(AgentClient c, String host, int upPort, String tls) throws Exception {
        ObjectNode d = Json.MAPPER.createObjectNode().put("host", host).put("upstream", "127.0.0.1:" + upPort)
                .put("owner", "manual/bench").put("tls", tls);
        call(c, "ingress.set", d);
    }

    private static JsonNode call(AgentClient c, String command, JsonNode data) throws Exception {
        return c.call(command, data).get(5, TimeUnit.MINUTES);
    }

    private static void awaitHttps(Caddy c, String host, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        Path root = null;
        while (true) {
            if (root == null) {
                try {
                    String pem = c.admin.localRoot();
                    if (pem.contains("BEGIN CERTIFICATE")) {
                        root = c.dir.resolve("root.pem");
                        Files.writeString(root, pem);
                    }
                } catch (IOException e) {
                    // the local CA does not exist until the first internal certificate
                }
            }
            if (root != null) {
                Process p = new ProcessBuilder("curl", "-s", "--fail", "--max-time", "5", "-o", "/dev/null", "--resolve",
                        host + ":" + c.httpsPort + ":127.0.0.1", "--cacert", root.toString(),
                        "https://" + host + ":" + c.httpsPort + "/").start();
                if (p.waitFor() == 0) {
                    return;
                }
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("no HTTPS answer for " + host);
            }
            Thread.sleep(5);
        }
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern LAT = Pattern.compile("Latency\\s+([0-9.]+\\w+)");
    private static final Pattern P50 = Pattern.compile("50%\\s+([0-9.]+\\w+)");
    private static final Pattern P99 = Pattern.compile("99%\\s+([0-9.]+\\w+)");

    private static String wrk(String url, String host) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t2", "-c32", "-d10s", "--latency"));
        if (host != null) {
            cmd.addAll(List.of("-H", "Host: " + host));
        }
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return String.format("%s req/s, latency mean %s, p50 %s, p99 %s", find(RPS, out), find(LAT, out), find(P50, out),
                find(P99, out)) + (out.contains("Non-2xx") ? " (NON-2xx answers!)" : "");
    }

    private static String find(Pattern p, String s) {
        Matcher m = p.matcher(s);
        return m.find() ? m.group(1) : "?";
    }

    private static String version() throws Exception {
        Process p = new ProcessBuilder("caddy", "version").start();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim().split(" ")[0];
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A Caddy of its own: temp data dir, admin on a free loopback port, starting empty. */
    static final class Caddy {
        final Path dir;
        final CaddyAdmin admin;
        final int httpPort = freePort();
        final int httpsPort = freePort();
        Process process;

        Caddy(String name) throws Exception {
            dir = Files.createTempDirectory("ingress-bench-" + name);
            admin = new CaddyAdmin("127.0.0.1:" + freePort(), Duration.ofMinutes(2));
            Files.writeString(dir.resolve("caddy.json"), "{\"admin\":{\"listen\":\"" + admin.listen() + "\"}}");
            start();
        }

        void env(ProcessBuilder pb) {
            pb.environment().put("HOME", dir.toString());
            pb.environment().put("XDG_DATA_HOME", dir.resolve("data").toString());
            pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        }

        void start() throws Exception {
            ProcessBuilder pb = new ProcessBuilder("caddy", "run", "--config", dir.resolve("caddy.json").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("caddy.log").toFile());
            env(pb);
            process = pb.start();
            PROCESSES.add(process);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    admin.config();
                    return;
                } catch (IOException e) {
                    if (System.nanoTime() > end) {
                        throw new IllegalStateException("caddy did not start; see " + dir.resolve("caddy.log"));
                    }
                    Thread.sleep(50);
                }
            }
        }

        void stop() throws Exception {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        void restart() throws Exception {
            stop();
            start();
        }

        long rssKb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        }
    }
}
