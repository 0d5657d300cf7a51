package dev.hostdeploy.bench.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * lxc.create (with start), lxc.snapshot.create and lxc.backup.create through the real protocol,
 * each beside what the lxc CLI takes for the same work on the same image: {@code lxc launch},
 * {@code lxc snapshot}, {@code lxc export --instance-only}. Target: overhead at most 20%.
 *
 * <p>Usage: LxcBench [IMAGE_ALIAS [RUNS]] (default hd-busybox, 5 runs; medians are printed).
 */
public final class LxcBench {
    /** A fixed test key: the bench never logs in, it only measures installing one. */
    private static final String MEMBER_KEY =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bench";
    private static final String HAND_SETUP = "until systemctl is-system-running 2>/dev/null | grep -qE "
            + "'starting|running|degraded'; do sleep 0.1; done; mkdir -p -m 700 /root/.ssh && ssh-keygen -A >/dev/null "
            + "&& for i in 1 2 3 4 5 6; do systemctl reset-failed ssh; systemctl restart ssh && exit 0; sleep 0.5; done; exit 1";

    private LxcBench() {
    }

    public static void main(String[] args) throws Exception {
        String image = args.length > 0 ? args[0] : "hd-busybox";
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path work = Files.createTempDirectory("hd-lxc-bench");
        Identity worker = Identity.generate("worker");
        Identity manager = Identity.generate("manager");
        HandlerRegistry registry = new HandlerRegistry();
        List<String> made = new ArrayList<>();
        try (LxcModule module = LxcModule.create(new LxcOptions(List.of(image), work.resolve("backups"), 100, null))) {
            module.register(registry);
            AgentServer server = AgentServer.builder(worker, TrustPolicy.exactly(List.of(manager.fingerprint())), registry)
                    .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("bench").build();
            server.start();
            AgentClient client = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH),
                    manager, TrustPolicy.exactly(List.of(worker.fingerprint()))).requestTimeout(Duration.ofMinutes(10)).build();
            client.start();
            if (!client.awaitConnected(Duration.ofSeconds(30))) {
                throw new IllegalStateException("could not connect to the bench Worker");
            }
            try {
                List<Long> oursCreate = new ArrayList<>();
                List<Long> cliLaunch = new ArrayList<>();
                List<Long> oursSnap = new ArrayList<>();
                List<Long> cliSnap = new ArrayList<>();
                List<Long> oursBackup = new ArrayList<>();
                List<Long> cliExport = new ArrayList<>();
                List<Long> byHand = new ArrayList<>();
                boolean sshImage = false;
                Path key = work.resolve("member.pub");
                Files.writeString(key, MEMBER_KEY + "\n");
                // One untimed round first: LXD unpacks the image into its cache on first use.
                for (int i = -1; i < runs; i++) {
                    String ours = "hdb-ours-" + (i + 1);
                    String cli = "hdb-cli-" + (i + 1);
                    made.add(ours);
                    made.add(cli);
                    boolean oursFirst = i % 2 == 0;
                    long[] t = new long[6];
                    for (int side = 0; side < 2; side++) {
                        if ((side == 0) == oursFirst) {
                            long t0 = System.nanoTime();
                            JsonNode r = call(client, "lxc.create", Map.of("name", ours, "image", image, "owner", "manual/bench",
                                    "sshKeys", List.of(MEMBER_KEY)));
                            t[0] = System.nanoTime() - t0;
                            sshImage = "running".equals(r.path("ssh").asText());
                            t[2] = time(() -> call(client, "lxc.snapshot.create", Map.of("name", ours, "snapshot", "s1")));
                            t[4] = time(() -> call(client, "lxc.backup.create", Map.of("name", ours)));
                        } else {
                            t[1] = time(() -> lxc("launch", image, cli));
                            t[3] = time(() -> lxc("snapshot", cli, "s1"));
                            Path out = work.resolve(cli + ".tar.gz");
                            t[5] = time(() -> lxc("export", cli, out.toString(), "--instance-only"));
                        }
                    }
                    if (sshImage) {
                        // The same result by hand: launched, own host keys, sshd running, key installed.
                        String hand = "hdb-hand-" + (i + 1);
                        made.add(hand);
                        long h = time(() -> {
                            lxc("launch", image, hand);
                            lxc("exec", hand, "--", "sh", "-c", HAND_SETUP);
                            lxc("file", "push", key.toString(), hand + "/root/.ssh/authorized_keys", "--mode", "0600");
                        });
                        lxc("delete", "--force", hand);
                        if (i >= 0) {
                            byHand.add(h);
                        }
                    }
                    lxc("delete", "--force", ours);
                    lxc("delete", "--force", cli);
                    if (i >= 0) {
                        oursCreate.add(t[0]);
                        cliLaunch.add(t[1]);
                        oursSnap.add(t[2]);
                        cliSnap.add(t[3]);
                        oursBackup.add(t[4]);
                        cliExport.add(t[5]);
                    }
                }
                System.out.printf("LXC benchmark: image %s, %d runs, medians (target: overhead <= 20%%)%n", image, runs);
                System.out.printf("%-34s %12s %12s %10s %6s%n", "operation", "hostdeploy", "lxc CLI", "overhead", "ok");
                row("lxc.create+start vs lxc launch", oursCreate, cliLaunch);
                if (!byHand.isEmpty()) {
                    row("  same work by hand (sshd + key)", oursCreate, byHand);
                }
                row("lxc.snapshot.create vs lxc snapshot", oursSnap, cliSnap);
                row("lxc.backup.create vs lxc export", oursBackup, cliExport);
            } finally {
                client.close();
                server.close();
            }
        } finally {
            for (String name : made) {
                run(List.of("lxc", "delete", "--force", name), false);
            }
            deleteTree(work);
        }
    }

    private static void row(String what, List<Long> ours, List<Long> base) {
        double o = median(ours) / 1e6;
        double b = median(base) / 1e6;
        double overhead = (o - b) / b * 100;
        System.out.printf("%-34s %9.0f ms %9.0f ms %9.1f%% %6s%n", what, o, b, overhead, overhead <= 20 ? "yes" : "NO");
    }

    private static double median(List<Long> xs) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
    }

    interface Step {
        void run() throws Exception;
    }

    private static long time(Step s) throws Exception {
        long t0 = System.nanoTime();
        s.run();
        return System.nanoTime() - t0;
    }

    private static JsonNode call(AgentClient client, String command, Object data) throws Exception {
        return client.call(command, data).get(10, TimeUnit.MINUTES);
    }

    private static void lxc(String... args) {
        List<String> cmd = new ArrayList<>(List.of("lxc"));
        cmd.addAll(List.of(args));
        run(cmd, true);
    }

    private static void run(List<String> cmd, boolean check) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + cmd);
            }
            if (check && p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
