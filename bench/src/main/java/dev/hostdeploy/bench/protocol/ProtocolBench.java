package dev.hostdeploy.bench.protocol;

import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 2's benchmark, in one run: sequential ping round trips over the real protocol vs a raw loopback
 * TCP echo of the same bytes, a JDK TLS 1.3 socket echo of them with the same certificates (the floor TLS
 * sets), a plain Java-WebSocket echo, and one command over OpenSSH exec with ControlMaster; then calls/s
 * with 64 in flight. Args: [sshPort sshKey] (bench/protocol.sh starts a throwaway sshd on loopback for that).
 */
public final class ProtocolBench {
    static final String FRAME = "{\"id\":\"1\",\"command\":\"ping\",\"data\":{}}";

    record Stats(double medianUs, double p99Us, int n) {
        static Stats of(long[] nanos) {
            long[] s = nanos.clone();
            Arrays.sort(s);
            return new Stats(s[s.length / 2] / 1e3, s[(int) Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] / 1e3, s.length);
        }
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.n", 20_000);
        Identity agentId = Identity.generate("bench-agent");
        Identity managerId = Identity.generate("bench-manager");
        Stats tcp = tcpEcho(n);
        Stats tls = TlsSocketEcho.run(n, agentId, managerId);
        Stats plainWs = PlainWebSocketEcho.run(n);
        HandlerRegistry registry = new HandlerRegistry();
        try (AgentServer server = AgentServer.builder(agentId, TrustPolicy.exactly(List.of(managerId.fingerprint())), registry)
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("bench").build()) {
            server.start();
            try (AgentClient client = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH),
                    managerId, TrustPolicy.exactly(List.of(agentId.fingerprint()))).build()) {
                client.start();
                if (!client.awaitConnected(Duration.ofSeconds(10))) {
                    throw new IllegalStateException("no connection: " + client.lastFailure());
                }
                sequential(client, n / 4); // warm-up: JIT and TLS session
                Stats proto = sequential(client, n);
                inFlight(client, 64, Duration.ofSeconds(2)); // warm-up
                double perSecond = inFlight(client, 64, Duration.ofSeconds(5));
                Stats ssh = args.length >= 2 ? ssh(Integer.parseInt(args[0]), args[1], 300) : null;

                System.out.println();
                System.out.println("Protocol benchmark (loopback, same ping frame, " + n + " sequential round trips)");
                System.out.printf("%-44s %12s %12s %14s%n", "path", "median us", "p99 us", "vs protocol");
                System.out.printf("%-44s %12.1f %12.1f %14s%n", "raw TCP echo (physical floor)", tcp.medianUs, tcp.p99Us,
                        String.format("%.2fx faster", proto.medianUs / tcp.medianUs));
                System.out.printf("%-44s %12.1f %12.1f %14s%n", "JDK TLS 1.3 socket echo (TLS floor)", tls.medianUs,
                        tls.p99Us, String.format("%.2fx faster", proto.medianUs / tls.medianUs));
                System.out.printf("%-44s %12.1f %12.1f %14s%n", "Java-WebSocket plain ws echo (library floor)",
                        plainWs.medianUs, plainWs.p99Us, String.format("%.2fx faster", proto.medianUs / plainWs.medianUs));
                System.out.printf("%-44s %12.1f %12.1f %14s%n", "hostdeploy ping (WebSocket, mutual TLS 1.3)",
                        proto.medianUs, proto.p99Us, "1.00x");
                if (ssh != null) {
                    System.out.printf("%-44s %12.1f %12.1f %14s%n", "OpenSSH exec 'true' (ControlMaster), n=" + ssh.n,
                            ssh.medianUs, ssh.p99Us, String.format("%.0fx slower", ssh.medianUs / proto.medianUs));
                } else {
                    System.out.println("OpenSSH exec: not measured (run bench/protocol.sh to start a loopback sshd)");
                }
                System.out.printf("%nTLS floor: the TLS echo is %.2fx the TCP echo; the protocol is %.2fx the TLS echo%n",
                        tls.medianUs / tcp.medianUs, proto.medianUs / tls.medianUs);
                System.out.printf("%nThroughput with 64 requests in flight: %.0f calls/s%n", perSecond);
                System.out.printf("%nTargets: median <= 2x raw TCP echo -> %.2fx %s; >= 40,000 calls/s -> %.0f %s",
                        proto.medianUs / tcp.medianUs, proto.medianUs <= 2 * tcp.medianUs ? "MET" : "MISSED",
                        perSecond, perSecond >= 40_000 ? "MET" : "MISSED");
                if (ssh != null) {
                    System.out.printf("; >= 100x faster than SSH exec -> %.0fx %s", ssh.medianUs / proto.medianUs,
                            ssh.medianUs >= 100 * proto.medianUs ? "MET" : "MISSED");
                }
                System.out.println();
            }
        }
    }

    static Stats tcpEcho(int n) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread echo = new Thread(() -> echoLines(ss));
            echo.setDaemon(true);
            echo.start();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                s.setTcpNoDelay(true);
                return lineEcho(s.getInputStream(), s.getOutputStream(), n);
            }
        }
    }

    /** Accepts one connection and echoes its lines until it closes. */
    static void echoLines(ServerSocket ss) {
        try (Socket s = ss.accept()) {
            s.setTcpNoDelay(true);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            String line;
            while ((line = in.readLine()) != null) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (Exception e) {
            // the client is done
        }
    }

    /** Sends the frame as a line and reads the echo, n / 4 times to warm up, then n times measured. */
    static Stats lineEcho(InputStream input, OutputStream out, int n) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
        byte[] frame = (FRAME + "\n").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < n / 4; i++) {
            out.write(frame);
            out.flush();
            in.readLine();
        }
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            out.write(frame);
            out.flush();
            in.readLine();
            t[i] = System.nanoTime() - start;
        }
        return Stats.of(t);
    }

    static Stats sequential(AgentClient client, int n) throws Exception {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            client.call("ping", null).get(10, TimeUnit.SECONDS);
            t[i] = System.nanoTime() - start;
        }
        return Stats.of(t);
    }

    static double inFlight(AgentClient client, int window, Duration duration) throws Exception {
        Semaphore permits = new Semaphore(window);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        while (System.nanoTime() < end) {
            permits.acquire();
            client.call("ping", null).whenComplete((r, e) -> {
                if (e == null) {
                    done.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
                permits.release();
            });
        }
        permits.acquire(window);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " calls failed");
        }
        return done.get() / seconds;
    }

    static Stats ssh(int port, String key, int n) throws Exception {
        List<String> base = new ArrayList<>(List.of("ssh", "-i", key, "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ControlMaster=auto", "-o", "ControlPersist=60",
                "-o", "ControlPath=/tmp/hostdeploy-bench-ssh-%p", "root@127.0.0.1"));
        run(base, "true"); // opens the master connection
        for (int i = 0; i < 20; i++) {
            run(base, "true");
        }
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            run(base, "true");
            t[i] = System.nanoTime() - start;
        }
        List<String> exit = new ArrayList<>(base);
        exit.add(exit.size() - 1, "-O");
        exit.add(exit.size() - 1, "exit");
        new ProcessBuilder(exit).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
        return Stats.of(t);
    }

    private static void run(List<String> base, String command) throws Exception {
        List<String> cmd = new ArrayList<>(base);
        cmd.add(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("ssh exec failed: " + cmd);
        }
    }
}
