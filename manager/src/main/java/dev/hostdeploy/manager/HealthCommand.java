package dev.hostdeploy.manager;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code health}: the container's health check, in the jar itself because the JRE image has no curl
 * or wget and its {@code sh} (dash) has no {@code /dev/tcp}. Without {@code --url} it asks the
 * address {@code serve} listens on (HOSTDEPLOY_LISTEN), so changing the port needs no second edit.
 */
@Command(name = "health", mixinStandardHelpOptions = true,
        description = "Exit 0 when the Manager's health route answers 200, 1 otherwise (for HEALTHCHECK).")
final class HealthCommand implements Callable<Integer> {
    @Option(names = "--url", paramLabel = "URL",
            description = "Health URL (default: http://HOSTDEPLOY_LISTEN/api/v1/health, 0.0.0.0 asked as 127.0.0.1)")
    String url;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "4",
            description = "How long to wait for the answer (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        URI target = URI.create(url != null ? url : fromListen(System.getenv("HOSTDEPLOY_LISTEN")));
        Duration timeout = Duration.ofSeconds(Math.max(1, timeoutSeconds));
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(target).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                spec.commandLine().getOut().println("healthy: " + target);
                return 0;
            }
            spec.commandLine().getErr().println("unhealthy: " + target + " answered " + r.statusCode() + " " + r.body());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            spec.commandLine().getErr().println("unhealthy: " + target + ": " + e);
        }
        return 1;
    }

    static String fromListen(String listen) {
        String value = listen == null || listen.isBlank() ? "127.0.0.1:8080" : listen.trim();
        int colon = value.lastIndexOf(':');
        String host = colon <= 0 ? "127.0.0.1" : value.substring(0, colon);
        String port = colon < 0 ? "8080" : value.substring(colon + 1);
        if (host.equals("0.0.0.0") || host.isEmpty()) {
            host = "127.0.0.1";
        } else if (host.equals("[::]") || host.equals("::")) {
            host = "[::1]";
        }
        return "http://" + host + ":" + port + "/api/v1/health";
    }
}
