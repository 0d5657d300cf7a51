package dev.hostdeploy.bench.deployments;

import static dev.hostdeploy.bench.deploy.GitAndCompose.freePort;
import static dev.hostdeploy.bench.deploy.GitAndCompose.median;
import static dev.hostdeploy.bench.deploy.GitAndCompose.ms;
import static dev.hostdeploy.bench.deploy.GitAndCompose.push;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.bench.deploy.GitAndCompose;
import dev.hostdeploy.manager.Manager;
import dev.hostdeploy.manager.ManagerConfig;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadItem;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadsResult;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Issue 11's benchmark, in one run against a real Manager (in this JVM, embedded store, HTTP on loopback):
 * <ol>
 *   <li>a signed GitHub push webhook -> the Worker starting {@code compose up} (target <= 1 s), and -> the
 *   new content served by a small busybox service, beside the same by hand ({@code git fetch}, {@code git
 *   checkout}, {@code compose up -d --build}) (target <= by hand + 1 s). The Worker is real (git daemon on
 *   loopback, dockerd); its Guardian a stub, as the service publishes on 127.0.0.1 only;</li>
 *   <li>one poll cycle ({@code POST /deployments/poll}) over 500 deployments on 5 hosts with nothing changed
 *   (target <= 2 s wall, no redeploy); those Workers are simulated agent servers answering
 *   {@code deploy.sync} and {@code repo.heads} over the real mutual-TLS protocol.</li>
 * </ol>
 * Needs root, dockerd, git and docker compose. Usage: {@code WebhookBench [rounds]} (default 3, medians).
 */
public final class WebhookBench {
    private static final String SECRET = "bench-webhook-secret";
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final int SIM_HOSTS = 5;
    private static final int SIM_DEPLOYMENTS = 500;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final GitAndCompose env;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private String base;
    private String token;
    private Manager manager;
    /** When the Worker last started a compose {@code up} (nanoTime), 0 until then. */
    private final AtomicLong composeUpAt = new AtomicLong();
    /** Every git and compose call the Worker started in the current round: nanoTime and its verb. */
    private final List<String[]> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    private String lastRoundTimeline = "";

    private WebhookBench(Path dir) throws Exception {
        this.env = new GitAndCompose(dir);
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        WebhookBench b = new WebhookBench(Files.createTempDirectory("webhook-bench"));
        try {
            b.runAll(rounds);
        } finally {
            b.cleanup();
        }
        System.exit(0);
    }

    private void runAll(int rounds) throws Exception {
        env.ensureImage();
        env.startGitDaemon();
        Files.writeString(env.dir().resolve("webhook-secret"), SECRET + "\n");
        manager = Manager.start(new ManagerConfig(env.dir().resolve("identity"), env.dir().resolve("data"))
                .listen(new InetSocketAddress("127.0.0.1", 0)).allowedOrgs(List.of("bench"))
                .webhookSecretFile(env.dir().resolve("webhook-secret")));
        closing.add(manager::close);
        base = "http://127.0.0.1:" + manager.port() + "/api/v1";
        token = Files.readString(env.dir().resolve("data/admin-token")).trim();
        String managerFp = manager.identity().fingerprint();

        // The real Worker, its compose calls timed as they start.
        HandlerRegistry registry = new HandlerRegistry();
        DeployModule module = DeployModule.create(new DeployOptions().deployRoot(env.dir().resolve("deploy"))
                .gitBaseUrl(env.gitUrl()).allowedOrgs(List.of("bench")).maxParallel(4), cmd -> {
                    calls.add(new String[] {Long.toString(System.nanoTime()), verb(cmd)});
                    if (!cmd.get(0).equals("git") && cmd.contains("up")) {
                        composeUpAt.compareAndSet(0, System.nanoTime());
                    }
                });
        closing.add(module);
        module.register(registry);
        registerHost("real", registry);

        long[] ack = new long[rounds];
        long[] up = new long[rounds];
        long[] served = new long[rounds];
        long[] hand = new long[rounds];
        webhookAndHandRounds(rounds, ack, up, served, hand);
        long[] poll = pollCycle();

        long upMs = median(up);
        long servedMs = median(served);
        long handMs = median(hand);
        System.out.printf("%nhostdeploy webhook benchmark: %d rounds (median), compose = %s%n%n", rounds,
                String.join(" ", env.composeCmd()));
        System.out.printf("%-44s %10s %22s %5s%n", "measure", "measured", "target", "met");
        row("webhook answered (202)", median(ack) + " ms", "(GitHub waits 10 s)", true);
        row("webhook -> compose up started", upMs + " ms", "<= 1000 ms", upMs <= 1000);
        row("webhook -> new content served", servedMs + " ms", "<= by hand + 1000 ms", servedMs <= handMs + 1000);
        row("by hand: fetch + checkout + up -> served", handMs + " ms", "", true);
        row("poll cycle, 500 deployments on 5 hosts", poll[0] + " ms", "<= 2000 ms", poll[0] <= 2000);
        row("  deployments polled / changed", poll[1] + " / " + poll[2], "500 / 0", poll[1] == 500 && poll[2] == 0);
        row("  deploy.sync calls during the cycle", poll[3] + "", "0", poll[3] == 0);
        System.out.printf("%nthe Worker's calls in the last webhook round (from the webhook's POST):%n%s", lastRoundTimeline);
        System.out.printf("%nrounds: webhook->up %s, webhook->served %s, by hand %s (ms)%n", Arrays.toString(up),
                Arrays.toString(served), Arrays.toString(hand));
    }

    /** The command's verb: git's subcommand, or compose's, for the timeline. */
    private static String verb(List<String> cmd) {
        if (cmd.get(0).equals("git")) {
            return cmd.stream().filter(a -> List.of("ls-remote", "fetch", "clone", "checkout", "rev-parse", "remote")
                    .contains(a)).findFirst().map(a -> "git " + a).orElse("git");
        }
        for (String v : List.of("config", "up", "ps", "down", "stop")) {
            int i = cmd.indexOf(v);
            if (i > 0) {
                return "compose " + String.join(" ", cmd.subList(i, cmd.size()));
            }
        }
        return String.join(" ", cmd);
    }

    private static void row(String name, String value, String target, boolean ok) {
        System.out.printf("%-44s %10s %22s %5s%n", name, value, target, ok ? "yes" : "NO");
    }

    /** Webhook and by-hand rounds alternate, so both see the same load on a shared machine. */
    private void webhookAndHandRounds(int rounds, long[] ack, long[] up, long[] served, long[] hand) throws Exception {
        int port = freePort();
        Path repo = createRepo("bench/site", port);
        push(repo, "v0");
        env.project("site");
        JsonNode created = api("POST", "/deployments", Map.of("name", "site", "repo", "bench/site", "host", "real",
                "pollInterval", 0));
        if (!created.has("id")) {
            throw new IllegalStateException("create: " + created);
        }
        int handPort = freePort();
        Path handRepo = createRepo("bench/hand", handPort);
        push(handRepo, "v0");
        env.project("hand");
        Path checkout = env.dir().resolve("hand");
        env.cloneRepo("bench/hand", checkout);
        env.composeUp("hand", checkout);
        await("first deploy", () -> "v0".equals(fetch(port)), Duration.ofMinutes(3));
        await("running", () -> "running".equals(api("GET", "/deployments/site", null).path("state").asText()),
                Duration.ofMinutes(1));
        await("by hand v0", () -> "v0".equals(fetch(handPort)), Duration.ofMinutes(2));
        // One warm-up round of each, then the measured ones.
        for (int r = -1; r < rounds; r++) {
            webhookRound(r, repo, port, ack, up, served);
            handRound(r, handRepo, checkout, handPort, hand);
        }
    }

    private void webhookRound(int r, Path repo, int port, long[] ack, long[] up, long[] served) throws Exception {
        String content = "webhook " + (r + 2);
        push(repo, content);
        composeUpAt.set(0);
        calls.clear();
        long t0 = System.nanoTime();
        HttpResponse<String> hook = webhook("bench/site");
        long acked = ms(t0);
        if (hook.statusCode() != 202 || !hook.body().contains("redeploying")) {
            throw new IllegalStateException("webhook: " + hook.statusCode() + " " + hook.body());
        }
        await("compose up", () -> composeUpAt.get() != 0, Duration.ofMinutes(1));
        long upMs = (composeUpAt.get() - t0) / 1_000_000;
        await("new content", () -> content.equals(fetch(port)), Duration.ofMinutes(2));
        long servedMs = ms(t0);
        await("deploy done", () -> "running".equals(api("GET", "/deployments/site", null).path("state").asText()),
                Duration.ofMinutes(1));
        StringBuilder timeline = new StringBuilder();
        for (String[] c : calls) {
            timeline.append(String.format("  +%5d ms  %s%n", (Long.parseLong(c[0]) - t0) / 1_000_000, c[1]));
        }
        timeline.append(String.format("  +%5d ms  new content served%n", servedMs));
        lastRoundTimeline = timeline.toString();
        if (r >= 0) {
            ack[r] = acked;
            up[r] = upMs;
            served[r] = servedMs;
        }
    }

    private void handRound(int r, Path repo, Path checkout, int port, long[] hand) throws Exception {
        String content = "hand " + (r + 2);
        push(repo, content);
        long t0 = System.nanoTime();
        env.updateByHand("hand", checkout);
        await("by hand new content", () -> content.equals(fetch(port)), Duration.ofMinutes(2));
        if (r >= 0) {
            hand[r] = ms(t0);
        }
    }

    /** Returns {wall ms, polled, changed, deploy.sync calls during the cycle}. */
    private long[] pollCycle() throws Exception {
        AtomicInteger syncs = new AtomicInteger();
        AtomicInteger heads = new AtomicInteger();
        for (int h = 0; h < SIM_HOSTS; h++) {
            HandlerRegistry sim = new HandlerRegistry()
                    .register("deploy.sync", ctx -> {
                        syncs.incrementAndGet();
                        JsonNode data = ctx.data();
                        return Map.of("name", data.get("name").asText(), "repo", data.get("repo").asText(),
                                "ref", "main", "commit", COMMIT, "changed", true, "services", List.of());
                    })
                    .register("repo.heads", ctx -> {
                        RepoHeadsRequest req = ctx.data(RepoHeadsRequest.class);
                        heads.addAndGet(req.repos().size());
                        return new RepoHeadsResult(req.repos().stream()
                                .map(r -> new RepoHeadItem(r.repo(), r.ref(), COMMIT, null)).toList());
                    });
            registerHost("sim-" + h, sim);
        }
        for (int i = 0; i < SIM_DEPLOYMENTS; i++) {
            JsonNode d = api("POST", "/deployments", Map.of("name", "app-" + i, "repo", "bench/app-" + i,
                    "host", "sim-" + (i % SIM_HOSTS), "pollInterval", 86_400));
            if (!d.has("id")) {
                throw new IllegalStateException("create: " + d);
            }
        }
        await("500 simulated deployments running", () -> api("GET", "/deployments?state=running", null).size()
                == SIM_DEPLOYMENTS + 1, Duration.ofMinutes(2));
        api("POST", "/deployments/poll", null); // warm-up
        int before = syncs.get();
        int headsBefore = heads.get();
        long t0 = System.nanoTime();
        JsonNode report = api("POST", "/deployments/poll", null);
        long wall = ms(t0);
        Thread.sleep(500); // a redeploy would have been queued by now
        if (heads.get() - headsBefore != SIM_DEPLOYMENTS) {
            throw new IllegalStateException("the simulated workers were asked " + (heads.get() - headsBefore) + " repos");
        }
        return new long[] {wall, report.get("polled").asLong(), report.get("changed").asLong(), syncs.get() - before};
    }

    private void registerHost(String name, HandlerRegistry workerHandlers) throws Exception {
        String managerFp = manager.identity().fingerprint();
        Identity w = Identity.generate("worker-" + name);
        Identity g = Identity.generate("guardian-" + name);
        AgentServer worker = AgentServer.builder(w, TrustPolicy.exactly(List.of(managerFp)), workerHandlers)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("bench").build();
        // A stub Guardian with an empty ruleset: nothing these services publish is on all interfaces.
        AgentServer guardian = AgentServer.builder(g, TrustPolicy.exactly(List.of(managerFp)), new HandlerRegistry()
                        .register("firewall.list", ctx -> Map.of("rules", List.of(), "forwards", List.of()))
                        .register("firewall.apply", ctx -> Map.of("rules", 0, "forwards", 0)))
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("guardian").version("bench").build();
        worker.start();
        guardian.start();
        closing.add(worker);
        closing.add(guardian);
        JsonNode host = api("POST", "/hosts", Map.of("name", name,
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", w.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardian.port(), "fingerprint", g.fingerprint())));
        String id = host.get("id").asText();
        await("host " + name + " connected", () -> api("GET", "/hosts/" + id, null).at("/worker/connected").asBoolean(),
                Duration.ofSeconds(30));
    }

    private HttpResponse<String> webhook(String repo) throws Exception {
        byte[] body = Json.MAPPER.writeValueAsBytes(Map.of("ref", "refs/heads/main",
                "repository", Map.of("full_name", repo)));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/webhooks/github"))
                .header("Content-Type", "application/json").header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", UUID.randomUUID().toString())
                .header("X-Hub-Signature-256", "sha256=" + HexFormat.of().formatHex(mac.doFinal(body)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode api(String method, String path, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(1))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body)));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return r.body().isEmpty() ? Json.MAPPER.nullNode() : Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** What the service serves, or null while nothing answers. */
    private static String fetch(int port) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/index.html"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body().trim() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static void await(String what, BooleanSupplier condition, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    private Path createRepo(String repo, int port) throws Exception {
        // No healthcheck: compose by hand returns once the container starts, and the Worker waits alike.
        return env.createRepo(repo, """
                services:
                  web:
                    build: .
                    stop_signal: SIGKILL
                    ports:
                      - "127.0.0.1:%d:8080"
                """.formatted(port));
    }

    private void cleanup() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            try {
                closing.get(i).close();
            } catch (Exception e) {
                System.err.println("closing: " + e);
            }
        }
        env.close();
    }

}
