package dev.hostdeploy.bench.guardian;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.guardian.GuardianAgent;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.TrustPolicy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Opens N ports through a real Guardian (over the protocol, nft inside a namespace) one by one and as
 * one firewall.apply, and prints the figures beside ufw's per-rule time measured by bench/guardian.sh.
 * Args: NAMESPACE UFW_SECONDS_PER_RULE UFW_N [N...]
 */
public final class GuardianBench {
    public static void main(String[] args) throws Exception {
        String ns = args[0];
        double ufwPerRule = Double.parseDouble(args[1]);
        String ufwN = args[2];
        int[] sizes = args.length > 3 ? Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {10, 100, 1000, 10000};
        Identity manager = Identity.generate("bench-manager");
        Identity guardian = Identity.generate("bench-guardian");
        Path state = Files.createTempDirectory("guardian-bench");
        try (GuardianAgent g = GuardianAgent.builder(guardian, TrustPolicy.exactly(List.of(manager.fingerprint())), state)
                .nftCommand(List.of("ip", "netns", "exec", ns, "nft")).checkInterval(Duration.ofHours(1)).build()) {
            g.start();
            try (AgentClient c = AgentClient.builder(URI.create("wss://127.0.0.1:" + g.port() + "/hostdeploy/v1"), manager,
                    TrustPolicy.exactly(List.of(guardian.fingerprint()))).requestTimeout(Duration.ofMinutes(5)).build()) {
                c.start();
                if (!c.awaitConnected(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("could not connect to the guardian");
                }
                // A Guardian is a long-running service: measure it warmed up (JIT-compiled, nft process running),
                // not the first requests after the JVM started.
                int warmUp = Integer.getInteger("warmUp", 500);
                for (int i = 0; i < warmUp; i++) {
                    ObjectNode d = Json.MAPPER.createObjectNode().put("protocol", "udp").put("port", 40000 + i).put("owner", "manual/warmup");
                    call(c, "firewall.open", d);
                    call(c, "firewall.close", d);
                }
                System.out.printf("ufw baseline: %.3f s per rule (ufw allow PORT/tcp, one by one, N=%s, enabled ufw in the same kind of namespace)%n",
                        ufwPerRule, ufwN);
                System.out.println();
                System.out.println("     N | one-by-one total | per port | median open | p95 open | vs ufw | apply N   | per port | vs ufw   | nft rules");
                System.out.println("-------+------------------+----------+-------------+----------+--------+-----------+----------+----------+----------");
                List<String> verdicts = new ArrayList<>();
                int oneByOneMax = Integer.getInteger("oneByOneMax", Integer.MAX_VALUE);
                for (int n : sizes) {
                    call(c, "firewall.apply", Json.MAPPER.readTree("{\"rules\":[],\"forwards\":[]}"));
                    int m = Math.min(n, oneByOneMax); // one-by-one measured on the first m ports when bounded
                    long[] each = new long[m];
                    long t0 = System.nanoTime();
                    for (int i = 0; i < m; i++) {
                        ObjectNode d = Json.MAPPER.createObjectNode().put("protocol", "tcp").put("port", port(i)).put("owner", "manual/bench");
                        long s = System.nanoTime();
                        call(c, "firewall.open", d);
                        each[i] = System.nanoTime() - s;
                    }
                    double total = (System.nanoTime() - t0) / 1e9;
                    int rulesOneByOne = call(c, "firewall.status", Json.MAPPER.createObjectNode()).path("nftRules").asInt();
                    Arrays.sort(each);
                    double median = each[m / 2] / 1e6;
                    double p95 = each[Math.min(m - 1, (int) (m * 0.95))] / 1e6;

                    call(c, "firewall.apply", Json.MAPPER.readTree("{\"rules\":[],\"forwards\":[]}"));
                    ObjectNode apply = Json.MAPPER.createObjectNode();
                    ArrayNode rules = apply.putArray("rules");
                    for (int i = 0; i < n; i++) {
                        rules.addObject().put("protocol", "tcp").put("port", port(i)).put("owner", "manual/bench");
                    }
                    apply.putArray("forwards");
                    long a0 = System.nanoTime();
                    call(c, "firewall.apply", apply);
                    double applySec = (System.nanoTime() - a0) / 1e9;
                    JsonNode st = call(c, "firewall.status", Json.MAPPER.createObjectNode());
                    int rules2 = st.path("nftRules").asInt();
                    if (!st.path("inSync").asBoolean() || rulesOneByOne != rules2 || st.path("rules").asInt() != n) {
                        throw new IllegalStateException("unexpected status " + st);
                    }
                    double perPort = total / m;
                    double perPortApply = applySec / n;
                    System.out.printf("%6d | %14.3f s%s| %5.2f ms | %8.2f ms | %5.2f ms | %5.0fx | %7.3f s | %5.3f ms | %7.0fx | %d%n",
                            n, total, m < n ? "*" : " ", perPort * 1e3, median, p95, ufwPerRule / perPort, applySec, perPortApply * 1e3,
                            ufwPerRule / perPortApply, rules2);
                    verdicts.add(String.format("N=%d: one-by-one %.0fx ufw (target >=100x) %s; median open %.2f ms (target <=10 ms) %s%s",
                            n, ufwPerRule / perPort, ufwPerRule / perPort >= 100 ? "MET" : "MISSED", median, median <= 10 ? "MET" : "MISSED",
                            n == 10000 ? String.format("; apply of 10,000 in %.3f s (target <=1 s) %s", applySec, applySec <= 1 ? "MET" : "MISSED") : ""));
                }
                System.out.println();
                if (oneByOneMax < Integer.MAX_VALUE) {
                    System.out.println("* one-by-one measured on the first " + oneByOneMax + " ports of N (-DoneByOneMax)");
                }
                System.out.println("Guardian measured after a warm-up of " + warmUp + " opens and closes (-DwarmUp).");
                System.out.println("nft rule count is the same for every N (sets hold the ports). Targets:");
                verdicts.forEach(v -> System.out.println("  " + v));
            }
        }
    }

    /** Non-adjacent ports, so every open adds its own set element instead of widening a range. */
    private static int port(int i) {
        return 10000 + 2 * i;
    }

    private static JsonNode call(AgentClient c, String command, JsonNode data) throws Exception {
        return c.call(command, data).get(5, TimeUnit.MINUTES);
    }
}
