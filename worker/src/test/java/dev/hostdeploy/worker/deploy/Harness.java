package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.RecordingContext;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** One Worker deploy module against real git (a local git daemon) and the real dockerd. */
final class Harness implements AutoCloseable {
    static final String ORG = "acme";

    final Path dir;
    final GitHubFixture github;
    final DeployModule module;
    final DeployOptions options;
    /** Every git and compose command line the module started, in order. */
    final List<List<String>> processes = new CopyOnWriteArrayList<>();
    private final java.util.Set<String> deployments = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Harness(Path dir) throws Exception {
        this(dir, o -> o, cmd -> { });
    }

    /** With options adjusted before the module starts, and a hook run as each git or compose call starts. */
    Harness(Path dir, java.util.function.UnaryOperator<DeployOptions> adjust,
            java.util.function.Consumer<List<String>> onProcess) throws Exception {
        TestImages.ensureBusybox();
        this.dir = dir;
        this.github = new GitHubFixture(dir);
        this.options = adjust.apply(new DeployOptions().deployRoot(dir.resolve("deploy")).gitBaseUrl(github.baseUrl())
                .allowedOrgs(List.of(ORG)).healthTimeout(Duration.ofSeconds(40)).maxParallel(2)
                .lockWait(Duration.ofMinutes(2)));
        this.module = DeployModule.create(options, cmd -> {
            processes.add(cmd);
            onProcess.accept(cmd);
        });
    }

    /** Calls a command's handler as the agent server would and returns the result as JSON. */
    JsonNode call(String command, Object data) throws Exception {
        return call(new RecordingContext(command, data));
    }

    JsonNode call(RecordingContext ctx) throws Exception {
        Object result = module.handlers().get(ctx.command()).handle(ctx);
        return Json.MAPPER.valueToTree(result);
    }

    /** Unique per run, so volumes a crashed earlier run left behind can never leak into assertions. */
    final String runId = Long.toHexString(System.nanoTime() & 0xffffff);

    /** A deployment name for this run; close() removes what was deployed under it. */
    String name(String base) {
        String name = base + "-" + runId;
        deployments.add(name);
        return name;
    }

    static Map<String, Object> data(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] != null) {
                m.put((String) kv[i], kv[i + 1]);
            }
        }
        return m;
    }

    /** A repository holding the test site (resources/deploy/site) whose index.html says {@code content}. */
    GitHubFixture.Repo siteRepo(String name, String content) throws Exception {
        GitHubFixture.Repo repo = github.create(ORG + "/" + name);
        repo.push("site " + content, siteFiles(content));
        return repo;
    }

    static Map<String, String> siteFiles(String content) throws IOException {
        Map<String, String> files = new HashMap<>();
        for (String f : List.of("docker-compose.yml", "Dockerfile")) {
            try (InputStream in = Harness.class.getResourceAsStream("/deploy/site/" + f)) {
                files.put(f, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        files.put("index.html", content + "\n");
        return files;
    }

    /** The host port the reply says the service's container port 8080 is published on. */
    static int port(JsonNode deployReply) {
        for (JsonNode s : deployReply.get("services")) {
            for (JsonNode p : s.get("ports")) {
                if (p.get("containerPort").asInt() == 8080 && p.has("hostPort")) {
                    return p.get("hostPort").asInt();
                }
            }
        }
        throw new AssertionError("no published port in " + deployReply);
    }

    String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body().trim();
    }

    List<List<String>> processesSince(int index) {
        return new ArrayList<>(processes.subList(index, processes.size()));
    }

    static boolean isCompose(List<String> cmd) {
        return cmd.get(0).equals("docker-compose") || cmd.size() > 1 && cmd.get(1).equals("compose");
    }

    /** What the Docker CLI says about a compose project's containers: proof independent of the module. */
    static String dockerPs(String project) throws Exception {
        StringBuilder out = new StringBuilder();
        TestImages.run(List.of("docker", "ps", "-a", "--filter", "label=com.docker.compose.project=" + project,
                "--format", "{{.ID}} {{.State}}"), out);
        return out.toString().trim();
    }

    static boolean volumeExists(String volume) throws Exception {
        return TestImages.run(List.of("docker", "volume", "inspect", volume), null) == 0;
    }

    @Override
    public void close() throws Exception {
        for (String name : deployments) {
            if (Files.exists(options.deployRoot().resolve(".state/" + name + ".json")) || !dockerPs(name).isEmpty()) {
                try {
                    call("deploy.remove", data("name", name, "removeVolumes", true));
                } catch (Exception e) {
                    // best effort: the next run uses fresh names under a fresh temp dir anyway
                }
            }
            TestImages.run(List.of("docker", "rmi", "-f", name + "_web", name + "-web"), null);
        }
        module.close();
        github.close();
    }
}
