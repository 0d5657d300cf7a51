package dev.hostdeploy.manager.deployments;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.hostdeploy.protocol.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --notify-url}: each finished deploy is POSTed as a small JSON that Slack's and Discord's incoming
 * webhooks both accept ({@code text} for Slack, {@code content} for Discord) plus structured fields
 * ({@code deployment}, {@code commit}, {@code result}, {@code durationSeconds}, {@code error}). Sent
 * asynchronously; a failure is logged and changes nothing else.
 */
public final class DeployNotifier implements DeploymentService.FinishedListener {
    private static final Logger LOG = LoggerFactory.getLogger(DeployNotifier.class);
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI url;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    public DeployNotifier(URI url) {
        String scheme = url.getScheme();
        if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme) || url.getHost() == null) {
            throw new IllegalArgumentException("--notify-url must be an http(s) URL, not " + url);
        }
        this.url = url;
    }

    @Override
    public void finished(String deployment, String commit, String result, Duration duration, String error) {
        send(deployment, commit, result, duration, error);
    }

    /** The POST in flight; completes with the status code, or exceptionally (already logged). */
    CompletableFuture<Integer> send(String deployment, String commit, String result, Duration duration, String error) {
        double seconds = duration.toMillis() / 1000.0;
        String text = "hostdeploy: " + deployment + " " + result
                + (commit == null ? "" : " at " + commit.substring(0, Math.min(12, commit.length())))
                + String.format(java.util.Locale.ROOT, " in %.1f s", seconds)
                + (error == null ? "" : ": " + error);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("text", text);
        body.put("content", text.length() > 2000 ? text.substring(0, 2000) : text); // Discord's limit
        body.put("deployment", deployment);
        body.put("commit", commit);
        body.put("result", result);
        body.put("durationSeconds", seconds);
        body.put("error", error);
        byte[] json;
        try {
            json = Json.MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        HttpRequest request = HttpRequest.newBuilder(url).timeout(TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json)).build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).handle((r, e) -> {
            if (e != null) {
                LOG.warn("deploy notification for {} to {} failed: {}", deployment, url.getHost(), e.toString());
                throw new java.util.concurrent.CompletionException(e);
            }
            if (r.statusCode() / 100 != 2) {
                LOG.warn("deploy notification for {} to {} answered {}", deployment, url.getHost(), r.statusCode());
            }
            return r.statusCode();
        });
    }
}
