package dev.hostdeploy.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue 10 item 4's measure, against a real Manager (its own JVM, embedded store, the Dockerfile's JVM
 * flags) driven over its REST API:
 * <ol>
 *   <li>embedded write throughput, acknowledged user creations per second from 8 clients, with the old
 *       commit policy (H2's background commit, {@code -Dhostdeploy.store.commit=deferred}) and the current
 *       one (each write committed before the reply);</li>
 *   <li>kill -9 at a random moment while 8 clients create users and one creates and revokes tokens, then a
 *       restart on the same data directory, until N writes were acknowledged: how many acknowledged users
 *       are missing and how many acknowledged revocations came back working (target 0 and 0).</li>
 * </ol>
 */
public final class StoreDurabilityBench {
    static final int CLIENTS = 8;
    static final List<String> JVM_FLAGS = List.of("-Xmx96m", "-XX:+UseSerialGC", "-Xss512k",
            "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=32m", "-XX:MaxMetaspaceSize=96m",
            "-Dio.netty.allocator.type=unpooled");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int throughputWrites = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        Path work = Files.createTempDirectory("store-durability");
        System.out.printf("embedded store, %d clients, Manager JVM %s%n", CLIENTS, String.join(" ", JVM_FLAGS));
        System.out.println();
        System.out.println("write throughput (acknowledged user creations per second, " + throughputWrites + " users):");
        for (String policy : List.of("deferred", "each-write")) {
            double rate = throughput(work.resolve("throughput-" + policy), policy, throughputWrites);
            System.out.printf("  %-10s  %8.0f /s  %s%n", policy,
                    rate, policy.equals("deferred") ? "(before: H2 background commit about once a second)"
                            : "(after: committed before the reply)");
        }
        System.out.println();
        for (String policy : List.of("deferred", "each-write")) {
            killLoop(work.resolve("kill-" + policy), policy, policy.equals("deferred") ? Math.min(n, 2_000) : n);
        }
    }

    static double throughput(Path dir, String policy, int writes) throws Exception {
        try (Manager m = Manager.start(dir, policy)) {
            AtomicInteger next = new AtomicInteger();
            AtomicInteger acked = new AtomicInteger();
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                threads.add(daemon(() -> {
                    for (int i; (i = next.getAndIncrement()) < writes; ) {
                        if (m.createUser("t" + i) == 201) {
                            acked.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return acked.get() / seconds;
        }
    }

    static void killLoop(Path dir, String policy, int n) throws Exception {
        Set<String> ackedUsers = ConcurrentHashMap.newKeySet();
        // Revoked token id -> its owner's id.
        Map<String, String> revokedTokens = new ConcurrentHashMap<>();
        int cycles = 0;
        long lostUsers = 0;
        long revivedTokens = 0;
        while (ackedUsers.size() + revokedTokens.size() < n) {
            cycles++;
            int cycle = cycles;
            try (Manager m = Manager.start(dir, policy)) {
                // Each cycle its own token owner: the old policy may have lost an earlier one.
                String owner = Json.MAPPER.readTree(m.send("POST", "/users", "{\"name\":\"owner-" + cycle + "\"}")
                        .body()).get("id").asText();
                AtomicBoolean stop = new AtomicBoolean();
                List<Thread> threads = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    threads.add(daemon(() -> {
                        for (int i = 0; !stop.get(); i++) {
                            String name = "c" + cycle + "-" + client + "-" + i;
                            try {
                                if (m.createUser(name) == 201) {
                                    ackedUsers.add(name);
                                }
                            } catch (RuntimeException killed) {
                                return;
                            }
                        }
                    }));
                }
                threads.add(daemon(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            JsonNode t = Json.MAPPER.readTree(m.send("POST", "/users/" + owner + "/tokens",
                                    "{\"name\":\"t" + i + "\"}").body());
                            if (m.send("DELETE", "/tokens/" + t.get("id").asText(), null).statusCode() == 204) {
                                revokedTokens.put(t.get("id").asText(), owner);
                            }
                        } catch (Exception killed) {
                            return;
                        }
                    }
                }));
                // A random moment in the middle of the writes.
                Thread.sleep(ThreadLocalRandom.current().nextLong(300, 1_500));
                m.kill9();
                stop.set(true);
                for (Thread t : threads) {
                    t.join(10_000);
                }
            }
        }
        try (Manager m = Manager.start(dir, policy)) {
            Set<String> present = new HashSet<>();
            for (JsonNode u : Json.MAPPER.readTree(m.send("GET", "/users", null).body())) {
                present.add(u.get("name").asText());
            }
            for (String name : ackedUsers) {
                if (!present.contains(name)) {
                    lostUsers++;
                }
            }
            // Asked through the admin's token list, not by trying each revoked token: the failed-login
            // limiter would answer 429 after a few tries.
            Set<String> tokensNow = new HashSet<>();
            for (String owner : new HashSet<>(revokedTokens.values())) {
                HttpResponse<String> r = m.send("GET", "/users/" + owner + "/tokens", null);
                if (r.statusCode() == 200) {
                    for (JsonNode t : Json.MAPPER.readTree(r.body())) {
                        tokensNow.add(t.get("id").asText());
                    }
                }
            }
            for (String id : revokedTokens.keySet()) {
                if (tokensNow.contains(id)) {
                    revivedTokens++;
                }
            }
        }
        System.out.printf("kill -9 loop, %s commit: %d cycles, %d acknowledged writes (%d user creations, %d token "
                        + "revocations): %d users lost, %d revoked tokens working again%n",
                policy, cycles, ackedUsers.size() + revokedTokens.size(), ackedUsers.size(), revokedTokens.size(),
                lostUsers, revivedTokens);
    }

    static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** {@code hostdeploy-manager serve} from the bench jar in its own JVM. */
    static final class Manager implements AutoCloseable {
        final Process process;
        final String base;
        final String token;

        private Manager(Process process, String base, String token) {
            this.process = process;
            this.base = base;
            this.token = token;
        }

        static Manager start(Path dir, String policy) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Files.createDirectories(dir);
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(JVM_FLAGS);
            cmd.addAll(List.of("-Dhostdeploy.store.commit=" + policy, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-cp", System.getProperty("java.class.path"), "dev.hostdeploy.manager.ManagerMain", "serve"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("manager.log").toFile()));
            pb.environment().put("MALLOC_ARENA_MAX", "2");
            pb.environment().put("HOSTDEPLOY_LISTEN", "127.0.0.1:" + port);
            pb.environment().put("HOSTDEPLOY_DIR", dir.resolve("identity").toString());
            pb.environment().put("HOSTDEPLOY_DATA_DIR", dir.resolve("data").toString());
            Process p = pb.start();
            String base = "http://127.0.0.1:" + port + "/api/v1";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("Manager exited:\n" + Files.readString(dir.resolve("manager.log")));
                }
                try {
                    if (HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    // Still starting.
                }
                if (System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IllegalStateException("Manager did not start within 60 s");
                }
                Thread.sleep(50);
            }
            return new Manager(p, base, Files.readString(dir.resolve("data/admin-token")).trim());
        }

        int createUser(String name) {
            return send("POST", "/users", "{\"name\":\"" + name + "\"}").statusCode();
        }

        HttpResponse<String> send(String method, String path, String json) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                    .header("Authorization", "Bearer " + token);
            if (json != null) {
                b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            try {
                return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    kill9();
                }
            }
        }
    }
}
