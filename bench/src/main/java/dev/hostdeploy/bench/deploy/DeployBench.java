package dev.hostdeploy.bench.deploy;

import static dev.hostdeploy.bench.deploy.GitAndCompose.check;
import static dev.hostdeploy.bench.deploy.GitAndCompose.median;
import static dev.hostdeploy.bench.deploy.GitAndCompose.ms;
import static dev.hostdeploy.bench.deploy.GitAndCompose.push;
import static dev.hostdeploy.bench.deploy.GitAndCompose.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * deploy.sync over the real protocol (first deploy, redeploy on change, unchanged) against doing the same
 * by hand ({@code git clone} / {@code git fetch && git checkout} + {@code docker-compose up -d --build}),
 * and repo.head for 100 repositories. Targets: overhead <= 10% + 300 ms; unchanged sync <= 100 ms;
 * repo.head x100 <= 2 s. Needs root, dockerd, git, docker-compose (or the docker compose plugin).
 *
 * <p>Usage: {@code DeployBench [rounds]} (default 3; the median of the rounds is reported).
 */
public final class DeployBench {
    /** No healthcheck, so "by hand" (compose returns once containers start) and deploy.sync wait alike. */
    private static final String COMPOSE = """
            version: "2.4"
            services:
              web:
                build: .
                stop_signal: SIGKILL
                ports:
                  - "127.0.0.1::8080"
            """;

    private final GitAndCompose env;

    private DeployBench(GitAndCompose env) {
        this.env = env;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        try (GitAndCompose env = new GitAndCompose(Files.createTempDirectory("deploy-bench"))) {
            new DeployBench(env).runAll(rounds);
        }
    }

    private void runAll(int rounds) throws Exception {
        env.ensureImage();
        env.startGitDaemon();
        String url = env.gitUrl();
        DeployOptions options = new DeployOptions().deployRoot(env.dir().resolve("deploy")).gitBaseUrl(url)
                .allowedOrgs(List.of("bench")).maxParallel(4);
        Identity workerId = Identity.generate("worker");
        Identity managerId = Identity.generate("manager");
        HandlerRegistry registry = new HandlerRegistry();
        try (DeployModule module = DeployModule.create(options)) {
            module.register(registry);
            AgentServer server = AgentServer.builder(workerId, TrustPolicy.exactly(List.of(managerId.fingerprint())),
                    registry).listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("bench").build();
            server.start();
            try (AgentClient client = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH),
                    managerId, TrustPolicy.exactly(List.of(workerId.fingerprint())))
                    .requestTimeout(Duration.ofMinutes(5)).build()) {
                client.start();
                if (!client.awaitConnected(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("manager could not connect to the worker");
                }
                measure(rounds, client, url);
            } finally {
                server.close();
            }
        }
    }

    private void measure(int rounds, AgentClient client, String url) throws Exception {
        long[][] ours = new long[3][rounds];
        long[][] hand = new long[3][rounds];
        // One warm-up of each path, so JIT, TLS and compose's Python start-up are not in round one only.
        oneRound(client, "warm", new long[3][1], new long[3][1], 0);
        for (int r = 0; r < rounds; r++) {
            oneRound(client, "r" + r, ours, hand, r);
        }
        // repo.head: 100 repositories polled at once, as the Manager's poller would
        Path template = env.createRepo("bench/head-0", COMPOSE);
        push(template, "x");
        for (int i = 1; i < 100; i++) {
            copyTree(env.bareRepo("bench/head-0"), env.bareRepo("bench/head-" + i));
        }
        long headMs = Long.MAX_VALUE;
        long handHeadMs = Long.MAX_VALUE;
        for (int r = 0; r < Math.max(2, rounds); r++) {
            long t0 = System.nanoTime();
            List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                calls.add(client.call("repo.head", Map.of("repo", "bench/head-" + i, "ref", "main")));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(1, TimeUnit.MINUTES);
            headMs = Math.min(headMs, ms(t0));
            t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                check(run(List.of("git", "ls-remote", url + "/bench/head-" + i + ".git", "main"), null), "ls-remote");
            }
            handHeadMs = Math.min(handHeadMs, ms(t0));
        }

        System.out.printf("%nhostdeploy deploy benchmark: %d rounds (median), compose = %s, over the mTLS protocol%n%n",
                rounds, String.join(" ", env.composeCmd()));
        System.out.printf("%-26s %12s %12s %26s %6s%n", "case", "deploy.sync", "by hand", "target", "met");
        String[] cases = {"first deploy", "redeploy on change", "unchanged sync"};
        for (int c = 0; c < 3; c++) {
            long o = median(ours[c]);
            long hd = median(hand[c]);
            long target = c < 2 ? Math.round(hd * 1.10) + 300 : 100;
            String targetText = c < 2 ? "<= " + target + " ms (1.1x+300)" : "<= 100 ms";
            System.out.printf("%-26s %9d ms %9d ms %26s %6s%n", cases[c], o, hd, targetText, o <= target ? "yes" : "NO");
        }
        System.out.printf("%-26s %9d ms %9d ms %26s %6s%n", "repo.head x100 (parallel)", headMs, handHeadMs,
                "<= 2000 ms", headMs <= 2000 ? "yes" : "NO");
        System.out.println();
        System.out.println("by hand = git clone | git fetch && git checkout, then " + String.join(" ", env.composeCmd())
                + " up -d --build; repo.head by hand = 100 sequential git ls-remote");
    }

    private void oneRound(AgentClient client, String tag, long[][] ours, long[][] hand, int r) throws Exception {
        // ours
        String name = "ours-" + tag;
        Path repo = env.createRepo("bench/" + name, COMPOSE);
        push(repo, "one");
        env.project(name);
        long t0 = System.nanoTime();
        sync(client, name);
        ours[0][r] = ms(t0);
        push(repo, "two");
        t0 = System.nanoTime();
        sync(client, name);
        ours[1][r] = ms(t0);
        t0 = System.nanoTime();
        JsonNode same = sync(client, name);
        ours[2][r] = ms(t0);
        if (same.get("changed").asBoolean()) {
            throw new IllegalStateException("unchanged sync ran compose");
        }
        client.call("deploy.remove", Map.of("name", name, "removeVolumes", true)).get(2, TimeUnit.MINUTES);

        // by hand
        String project = "hand-" + tag;
        Path handRepo = env.createRepo("bench/" + project, COMPOSE);
        push(handRepo, "one");
        env.project(project);
        Path checkout = env.dir().resolve("hand/" + project);
        t0 = System.nanoTime();
        env.cloneRepo("bench/" + project, checkout);
        env.composeUp(project, checkout);
        hand[0][r] = ms(t0);
        push(handRepo, "two");
        t0 = System.nanoTime();
        env.updateByHand(project, checkout);
        hand[1][r] = ms(t0);
        t0 = System.nanoTime();
        env.updateByHand(project, checkout);
        hand[2][r] = ms(t0);
        env.composeDown(project, checkout);
    }

    private static JsonNode sync(AgentClient client, String name) throws Exception {
        return client.call("deploy.sync", Map.of("name", name, "repo", "bench/" + name, "ref", "main"))
                .get(5, TimeUnit.MINUTES);
    }

    private static void copyTree(Path from, Path to) throws Exception {
        check(run(List.of("cp", "-r", from.toString(), to.toString()), null), "cp");
    }
}
