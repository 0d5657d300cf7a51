package dev.hostdeploy.bench.containers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.manager.Manager;
import dev.hostdeploy.manager.ManagerConfig;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Members' containers through the Manager (issue 12), with the real agents in-process: a Worker on the
 * real LXD and a Guardian whose nft runs in a network namespace of its own (the host's ruleset is never
 * touched).
 *
 * <p>1. Request to first SSH login: {@code POST /containers} (the debootstrapped image with OpenSSH)
 * until {@code ssh -p PORT root@127.0.0.1 true} succeeds, beside the same steps by hand: {@code lxc
 * launch}, host keys and sshd, the key pushed, a proxy device, {@code nft add element}, then the same
 * login. Target: at most by-hand + 20%.
 *
 * <p>2. 20 busybox containers requested at once by 10 members (2 each): all placed and running, no port
 * given twice, the wall time from the first request to the last running.
 *
 * <p>Usage: ContainersBench [SSH_IMAGE [RUNS [all|login|burst]]] (default hd-debian, 3 runs, both parts;
 * medians printed).
 */
public final class ContainersBench {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String HAND_SETUP = "until systemctl is-system-running 2>/dev/null | grep -qE "
            + "'starting|running|degraded'; do sleep 0.1; done; mkdir -p -m 700 /root/.ssh && ssh-keygen -A >/dev/null "
            + "&& for i in 1 2 3 4 5 6; do systemctl reset-failed ssh; systemctl restart ssh && exit 0; sleep 0.5; done; exit 1";

    private final Path dir;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<String> handMade = new ArrayList<>();
    /** The LXD name prefixes of this run's members' containers, for the cleanup of a failed run. */
    private final List<String> prefixes = new ArrayList<>();
    private String ns;
    private Manager manager;
    private String base;
    private String adminToken;
    /** Below the ephemeral ports (32768 up), which outgoing connections take. */
    private final int portMin = 23_000 + ThreadLocalRandom.current().nextInt(90) * 100;

    private ContainersBench(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        String image = args.length > 0 ? args[0] : "hd-debian";
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String parts = args.length > 2 ? args[2] : "all";
        ContainersBench b = new ContainersBench(Files.createTempDirectory("containers-bench"));
        try {
            b.run(image, runs, parts);
        } finally {
            b.cleanup();
        }
        System.exit(0);
    }

    private void run(String image, int runs, String parts) throws Exception {
        manager = Manager.start(new ManagerConfig(dir.resolve("identity"), dir.resolve("data"))
                .listen(new InetSocketAddress("127.0.0.1", 0)).sshPortRange(portMin, portMin + 99)
                .maxContainersPerMember(3));
        closing.add(manager);
        base = "http://127.0.0.1:" + manager.port() + "/api/v1";
        adminToken = Files.readString(dir.resolve("data/admin-token")).trim();
        TrustPolicy trust = TrustPolicy.exactly(List.of(manager.identity().fingerprint()));

        ns = "hdbench" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        sh("ip", "netns", "add", ns);
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        Identity guardianKey = Identity.generate("guardian");
        GuardianAgent guardian = GuardianAgent.builder(guardianKey, trust, dir.resolve("guardian"))
                .listen(new InetSocketAddress("127.0.0.1", 0)).nftCommand(List.of("ip", "netns", "exec", ns, "nft")).build();
        guardian.start();
        closing.add(guardian);

        HandlerRegistry registry = new HandlerRegistry();
        DeployModule deploy = DeployModule.create(new DeployOptions().deployRoot(Files.createDirectories(dir.resolve("deploy"))));
        closing.add(deploy);
        deploy.register(registry);
        LxcModule lxc = LxcModule.create(new LxcOptions(List.of(image, "hd-busybox"), dir.resolve("backups"), 2, null));
        closing.add(lxc);
        lxc.register(registry);
        Identity workerKey = Identity.generate("worker");
        AgentServer worker = AgentServer.builder(workerKey, trust, registry).listen(new InetSocketAddress("127.0.0.1", 0))
                .kind("worker").version("bench").details(lxc::info).build();
        worker.start();
        closing.add(worker);

        JsonNode host = call("POST", "/hosts", adminToken, Map.of("name", "bench",
                "worker", Map.of("address", "127.0.0.1:" + worker.port(), "fingerprint", workerKey.fingerprint()),
                "guardian", Map.of("address", "127.0.0.1:" + guardian.port(), "fingerprint", guardianKey.fingerprint())), 201);
        String hostId = host.get("id").asText();
        await(Duration.ofSeconds(30), () -> {
            JsonNode h = call("GET", "/hosts/" + hostId, adminToken, null, 200);
            return h.at("/worker/connected").asBoolean() && h.at("/guardian/connected").asBoolean();
        });

        if (!parts.equals("burst")) {
            loginBenchmark(image, runs);
        }
        if (!parts.equals("login")) {
            burstBenchmark();
        }
    }

    private void loginBenchmark(String image, int runs) throws Exception {
        Path key = dir.resolve("id_member");
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key.toString());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        String pub = Files.readString(Path.of(key + ".pub")).strip();
        String token = member("login");
        call("PUT", "/me/keys", token, Map.of("keys", List.of(pub)), 200);
        List<Long> ours = new ArrayList<>();
        List<Long> hand = new ArrayList<>();
        // One untimed round first: LXD unpacks the image into its cache on first use.
        for (int i = -1; i < runs; i++) {
            long[] t = new long[2];
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (i % 2 == 0)) {
                    Instant w0 = Instant.now();
                    long t0 = System.nanoTime();
                    JsonNode c = call("POST", "/containers", token, Map.of("name", "login" + (i + 1), "image", image), 202);
                    String id = c.get("id").asText();
                    long accepted = System.nanoTime() - t0;
                    JsonNode[] now = new JsonNode[1];
                    await(Duration.ofMinutes(5), () -> {
                        now[0] = call("GET", "/containers/" + id, token, null, 200);
                        return now[0].get("state").asText().equals("running");
                    });
                    long running = System.nanoTime() - t0;
                    int tries = awaitLogin(key, now[0].at("/ssh/port").asInt());
                    t[0] = System.nanoTime() - t0;
                    // Where the time went: the operation's recorded steps, from the request on.
                    StringBuilder steps = new StringBuilder();
                    for (JsonNode op : call("GET", "/containers/" + id + "/operations", token, null, 200)) {
                        for (JsonNode st : op.get("steps")) {
                            String line = st.asText();
                            int sp = line.indexOf(' ');
                            long at = Duration.between(w0, Instant.parse(line.substring(0, sp))).toMillis();
                            steps.append(String.format("      %6d ms  %s%n", at, line.substring(sp + 1)));
                        }
                    }
                    System.out.printf("  run %d hostdeploy: 202 after %d ms, running seen after %d ms, login after %d ms "
                            + "(%d ssh tries)%n%s", i + 1, accepted / 1_000_000, running / 1_000_000, t[0] / 1_000_000,
                            tries, steps);
                    call("DELETE", "/containers/" + id, token, null, 202);
                    await(Duration.ofMinutes(2), () -> status("GET", "/containers/" + id, token) == 404);
                } else {
                    String name = "hdb-hand-" + (i + 1);
                    int port = portMin + 90 + i + 1;
                    handMade.add(name);
                    long t0 = System.nanoTime();
                    List<Long> marks = new ArrayList<>();
                    sh("lxc", "launch", image, name);
                    marks.add(System.nanoTime() - t0);
                    sh("lxc", "exec", name, "--", "sh", "-c", HAND_SETUP);
                    marks.add(System.nanoTime() - t0);
                    sh("lxc", "file", "push", key + ".pub", name + "/root/.ssh/authorized_keys", "--mode", "0600",
                            "--uid", "0", "--gid", "0");
                    marks.add(System.nanoTime() - t0);
                    sh("lxc", "config", "device", "add", name, "ssh", "proxy", "listen=tcp:0.0.0.0:" + port,
                            "connect=tcp:127.0.0.1:22");
                    marks.add(System.nanoTime() - t0);
                    sh("ip", "netns", "exec", ns, "nft", "add", "element", "inet", "hostdeploy", "open_ports",
                            "{ tcp . " + port + " }");
                    marks.add(System.nanoTime() - t0);
                    int tries = awaitLogin(key, port);
                    t[1] = System.nanoTime() - t0;
                    System.out.printf("  run %d by hand: launched %d, sshd %d, key %d, proxy %d, nft %d, login %d ms "
                            + "(%d ssh tries)%n", i + 1, marks.get(0) / 1_000_000, marks.get(1) / 1_000_000,
                            marks.get(2) / 1_000_000, marks.get(3) / 1_000_000, marks.get(4) / 1_000_000,
                            t[1] / 1_000_000, tries);
                    sh("ip", "netns", "exec", ns, "nft", "delete", "element", "inet", "hostdeploy", "open_ports",
                            "{ tcp . " + port + " }");
                    sh("lxc", "delete", "--force", name);
                }
            }
            if (i >= 0) {
                ours.add(t[0]);
                hand.add(t[1]);
            }
        }
        double o = median(ours) / 1e6;
        double h = median(hand) / 1e6;
        double overhead = (o - h) / h * 100;
        System.out.printf("%ncontainers benchmark 1: request to first SSH login, image %s, %d runs, medians%n", image, runs);
        System.out.printf("  hostdeploy (POST /containers .. ssh ok)   %8.0f ms   (runs: %s)%n", o, ms(ours));
        System.out.printf("  by hand (launch, sshd, key, proxy, nft)   %8.0f ms   (runs: %s)%n", h, ms(hand));
        System.out.printf("  overhead %.1f%% (target <= 20%%): %s%n", overhead, overhead <= 20 ? "met" : "NOT met");
    }

    private void burstBenchmark() throws Exception {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            tokens.add(member("burst" + i));
        }
        String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bench";
        for (String t : tokens) {
            call("PUT", "/me/keys", t, Map.of("keys", List.of(key)), 200);
        }
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<CompletableFuture<String[]>> requests = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            String token = tokens.get(i / 2);
            String name = "b" + (i % 2);
            requests.add(CompletableFuture.supplyAsync(() -> {
                JsonNode c = call("POST", "/containers", token, Map.of("name", name, "image", "hd-busybox"), 202);
                return new String[] {token, c.get("id").asText()};
            }, pool));
        }
        List<String[]> made = new ArrayList<>();
        for (CompletableFuture<String[]> r : requests) {
            made.add(r.get(5, TimeUnit.MINUTES));
        }
        long accepted = System.nanoTime() - t0;
        Set<String> hostPorts = new HashSet<>();
        List<Integer> ports = new ArrayList<>();
        for (String[] m : made) {
            JsonNode[] now = new JsonNode[1];
            await(Duration.ofMinutes(10), () -> {
                now[0] = call("GET", "/containers/" + m[1], m[0], null, 200);
                return now[0].get("state").asText().equals("running");
            });
            ports.add(now[0].at("/ssh/port").asInt());
            hostPorts.add(now[0].get("hostId").asText() + ":" + now[0].at("/ssh/port").asInt());
        }
        long wall = System.nanoTime() - t0;
        pool.shutdown();
        // LXD's start sometimes fails under load; the create then tries again: count those.
        int retried = 0;
        for (String[] m : made) {
            for (JsonNode op : call("GET", "/containers/" + m[1] + "/operations", m[0], null, 200)) {
                for (JsonNode st : op.get("steps")) {
                    if (st.asText().contains("trying again")) {
                        retried++;
                        System.out.println("  retried: " + st.asText());
                    }
                }
            }
        }
        System.out.printf("%ncontainers benchmark 2: 20 busybox containers requested at once by 10 members%n");
        System.out.printf("  all 20 accepted (202) after %.0f ms; all running after %.0f ms (wall time)%n",
                accepted / 1e6, wall / 1e6);
        System.out.printf("  placed: %d, distinct ports: %d (%s) -> %s%n", made.size(), hostPorts.size(),
                ports.stream().sorted().toList(), hostPorts.size() == made.size() ? "no port given twice" : "PORT GIVEN TWICE");
        System.out.printf("  creates that LXD failed once and were tried again: %d%n", retried);
        // Each container's own host id range (security.idmap.isolated): none shared.
        Set<String> bases = new HashSet<>();
        int isolated = 0;
        for (String name : out("lxc", "list", "--format", "csv", "-c", "n").lines().map(String::strip).toList()) {
            if (prefixes.stream().anyMatch(name::startsWith) && name.matches(".*-b[01]$")) {
                isolated++;
                bases.add(out("lxc", "config", "get", name, "volatile.idmap.base").strip());
            }
        }
        System.out.printf("  host id ranges: %d containers, %d distinct -> %s%n", isolated, bases.size(),
                bases.size() == isolated ? "none shared" : "RANGE SHARED");
        for (String[] m : made) {
            call("DELETE", "/containers/" + m[1], m[0], null, 202);
        }
        for (String[] m : made) {
            await(Duration.ofMinutes(5), () -> status("GET", "/containers/" + m[1], m[0]) == 404);
        }
    }

    private String member(String name) {
        JsonNode u = call("POST", "/users", adminToken, Map.of("name", name, "role", "member"), 201);
        prefixes.add("m-" + u.get("id").asText().substring(0, 8) + "-");
        return call("POST", "/users/" + u.get("id").asText() + "/tokens", adminToken, Map.of("name", "bench"), 201)
                .get("token").asText();
    }

    /** Tries {@code ssh ... true} every 50 ms until it succeeds; the number of tries. */
    private static int awaitLogin(Path key, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        for (int tries = 1; ; tries++) {
            int code = exec(List.of("ssh", "-i", key.toString(), "-p", Integer.toString(port), "-o", "BatchMode=yes",
                    "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@127.0.0.1", "true"));
            if (code == 0) {
                return tries;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no SSH login on port " + port);
            }
            Thread.sleep(50);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void await(Duration timeout, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out");
            }
            Thread.sleep(50);
        }
    }

    private int status(String method, String path, String token) {
        return send(method, path, token, null).statusCode();
    }

    private JsonNode call(String method, String path, String token, Object body, int expected) {
        HttpResponse<String> r = send(method, path, token, body);
        if (r.statusCode() != expected) {
            throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        try {
            return r.body().isEmpty() ? null : Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> send(String method, String path, String token, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token);
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body)));
            } else {
                b.method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("")
                        : HttpRequest.BodyPublishers.noBody());
            }
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String ms(List<Long> xs) {
        return xs.stream().map(x -> Long.toString(x / 1_000_000)).toList().toString();
    }

    private static double median(List<Long> xs) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
    }

    private static String out(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return o;
    }

    private static void sh(String... cmd) {
        List<String> c = List.of(cmd);
        if (exec(c) != 0) {
            throw new IllegalStateException("failed: " + String.join(" ", cmd));
        }
    }

    private static int exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void cleanup() {
        for (int i = closing.size() - 1; i >= 0; i--) {
            try {
                closing.get(i).close();
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
        // Whatever a failed run left: the instances of this run's members and the hand-made ones.
        try {
            Process p = new ProcessBuilder("lxc", "list", "--format", "csv", "-c", "n").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            for (String name : out.lines().map(String::strip).toList()) {
                if (handMade.contains(name) || prefixes.stream().anyMatch(name::startsWith)) {
                    exec(List.of("lxc", "delete", "--force", name));
                }
            }
        } catch (IOException e) {
            System.err.println("cleanup: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ns != null) {
            exec(List.of("ip", "netns", "del", ns));
        }
    }
}
