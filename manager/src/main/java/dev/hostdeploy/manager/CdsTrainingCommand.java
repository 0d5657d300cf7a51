package dev.hostdeploy.manager;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.protocol.cli.ExitCodes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * {@code cds-training}: one short life of a Manager for the JVM's class-data sharing. Run under
 * {@code -XX:ArchiveClassesAtExit=FILE}, it leaves in FILE the classes a Manager loads (parsed and
 * verified once, at image build), which every later start with {@code -XX:SharedArchiveFile=FILE} maps
 * instead of reading them from the jar: at a restart with 1,000 hosts the API answers sooner and the
 * reconnection has more CPU left (docs/operations.md, "Sizing the Manager"). The life is a real one, in
 * a temporary directory: the store, the API, and one host whose two agents (this jar's own protocol
 * server) are connected over mutual TLS and asked for statistics. Nothing of it is kept.
 */
@Command(name = "cds-training", hidden = true, mixinStandardHelpOptions = true,
        description = "Start a throwaway Manager with one local host, then stop (for -XX:ArchiveClassesAtExit).")
final class CdsTrainingCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(CdsTrainingCommand.class);
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("hostdeploy-cds");
        try {
            train(dir);
            return ExitCodes.OK;
        } finally {
            deleteTree(dir);
        }
    }

    private static void train(Path dir) throws Exception {
        ManagerConfig config = new ManagerConfig(dir.resolve("identity"), dir.resolve("data"))
                .listen(new InetSocketAddress("127.0.0.1", 0));
        try (Manager manager = Manager.start(config)) {
            String managerKey = manager.identity().fingerprint();
            Identity workerKey = Identity.generate("worker");
            Identity guardianKey = Identity.generate("guardian");
            AgentServer worker = agent("worker", workerKey, managerKey);
            AgentServer guardian = agent("guardian", guardianKey, managerKey);
            try {
                URI api = URI.create("http://127.0.0.1:" + manager.port() + "/api/v1");
                String token = Files.readString(dir.resolve("data").resolve(Manager.ADMIN_TOKEN_FILE)).strip();
                HttpClient http = HttpClient.newHttpClient();
                JsonNode host = send(http, api.resolve("/api/v1/hosts"), token, Map.of("name", "training",
                        "worker", endpoint(worker, workerKey), "guardian", endpoint(guardian, guardianKey)));
                URI hostUri = api.resolve("/api/v1/hosts/" + host.get("id").asText());
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!bothConnected(send(http, hostUri, token, null))) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the training host's agents did not connect within " + WAIT);
                    }
                    Thread.sleep(50);
                }
                for (String path : List.of("/api/v1/stats", "/api/v1/health", "/api/v1/openapi.json", "/api/v1/audit")) {
                    send(http, api.resolve(path), token, null);
                }
                LOG.info("class-data sharing training done");
            } finally {
                worker.close();
                guardian.close();
            }
        }
    }

    /** An agent answering only the protocol's built-in commands; the Manager's queries get {@code unknown_command}. */
    private static AgentServer agent(String kind, Identity key, String managerKey) throws InterruptedException {
        AgentServer server = AgentServer.builder(key, TrustPolicy.exactly(List.of(managerKey)),
                new HandlerRegistry()).listen(new InetSocketAddress("127.0.0.1", 0)).kind(kind).version("training").build();
        server.start();
        return server;
    }

    private static Map<String, String> endpoint(AgentServer server, Identity key) {
        return Map.of("address", "127.0.0.1:" + server.port(), "fingerprint", key.fingerprint());
    }

    private static boolean bothConnected(JsonNode host) {
        return host.at("/worker/connected").asBoolean() && host.at("/guardian/connected").asBoolean();
    }

    private static JsonNode send(HttpClient http, URI uri, String token, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(WAIT).header("Authorization", "Bearer " + token);
        if (body != null) {
            b.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(ManagerJson.MAPPER.writeValueAsBytes(body)));
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(uri.getPath() + " answered " + r.statusCode());
        }
        return ManagerJson.MAPPER.readTree(r.body());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
