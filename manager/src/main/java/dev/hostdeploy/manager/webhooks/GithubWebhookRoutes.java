package dev.hostdeploy.manager.webhooks;

import static dev.hostdeploy.manager.http.Route.API;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.manager.deployments.DeploymentService;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.jobs.Deploys.Trigger;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.store.ManagerJson;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code POST /webhooks/github}: no token, the signature is the authentication. A push redeploys every
 * deployment of that repo and branch; the answer goes back before any deploy runs (GitHub waits 10 s).
 */
public final class GithubWebhookRoutes implements RouteGroup {
    private static final Pattern DELIVERY = Pattern.compile("[A-Za-z0-9-]{1,100}");

    private final WebhookSignature signature;
    private final Deliveries deliveries;
    private final DeploymentService deployments;
    private final Counter refused;

    /** The parts of a push payload the Manager reads. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Push(String ref, String after, Boolean deleted, Repository repository) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Repository(String full_name) {
    }

    /** The answer: what was done with the delivery. */
    record WebhookResult(String event, String delivery, String outcome, List<String> redeploying) {
    }

    public GithubWebhookRoutes(WebhookSignature signature, Database db, DeploymentService deployments,
                               MeterRegistry metrics) {
        this.signature = signature;
        this.deliveries = new Deliveries(db);
        this.deployments = deployments;
        this.refused = Counter.builder("hostdeploy_webhook_refused").description("webhook deliveries refused (bad signature)")
                .register(metrics);
    }

    @Override
    public List<Route> routes() {
        return List.of(Route.post(API + "/webhooks/github").open().acceptsForm()
                .doc("githubWebhook", "GitHub push and ping events, authenticated by X-Hub-Signature-256; "
                        + "JSON or form-encoded payloads")
                .audit("webhook.github").returns(202, "WebhookResult").handle(this::receive));
    }

    private void receive(Context ctx) {
        byte[] body = ctx.bodyAsBytes();
        if (!signature.verify(body, ctx.header("X-Hub-Signature-256"))) {
            // Refused deliveries are counted, not audited: anyone can send them.
            refused.increment();
            Requests.auditedElsewhere(ctx);
            throw new ApiException(401, "bad_signature", signature.configured()
                    ? "missing or wrong X-Hub-Signature-256"
                    : "webhooks are not configured (start the Manager with --webhook-secret-file)");
        }
        String event = ctx.header("X-GitHub-Event");
        String delivery = ctx.header("X-GitHub-Delivery");
        if (delivery != null && !DELIVERY.matcher(delivery).matches()) {
            throw new ApiException(400, "invalid_data", "X-GitHub-Delivery must be a GitHub delivery id");
        }
        Requests.target(ctx, "webhook/github/" + (delivery == null ? "-" : delivery));
        if ("ping".equals(event)) {
            ctx.status(200).json(new WebhookResult(event, delivery, "pong", List.of()));
            return;
        }
        if (delivery != null && !deliveries.firstTime(delivery, String.valueOf(event))) {
            ctx.status(200).json(new WebhookResult(event, delivery, "duplicate", List.of()));
            return;
        }
        if (!"push".equals(event)) {
            ctx.status(202).json(new WebhookResult(event, delivery, "ignored", List.of()));
            return;
        }
        Push push = payload(ctx, body);
        if (push.ref() == null || !push.ref().startsWith("refs/heads/") || Boolean.TRUE.equals(push.deleted())
                || push.repository() == null || push.repository().full_name() == null) {
            ctx.status(202).json(new WebhookResult(event, delivery, "ignored", List.of()));
            return;
        }
        String branch = push.ref().substring("refs/heads/".length());
        List<String> names = deployments.pushed(push.repository().full_name(), branch, Trigger.WEBHOOK,
                "delivery/" + (delivery == null ? "unknown" : delivery));
        ctx.status(202).json(new WebhookResult(event, delivery, names.isEmpty() ? "no_match" : "redeploying", names));
    }

    /** The push, from a JSON body or from the {@code payload} field of a form-encoded one. */
    private static Push payload(Context ctx, byte[] body) {
        String type = ctx.contentType() == null ? "" : ctx.contentType();
        try {
            if (type.startsWith("application/x-www-form-urlencoded")) {
                for (String pair : new String(body, StandardCharsets.US_ASCII).split("&")) {
                    int eq = pair.indexOf('=');
                    if (eq > 0 && pair.substring(0, eq).equals("payload")) {
                        return ManagerJson.MAPPER.readValue(URLDecoder.decode(pair.substring(eq + 1),
                                StandardCharsets.UTF_8), Push.class);
                    }
                }
                throw new ApiException(400, "bad_request", "a form-encoded delivery needs a payload field");
            }
            return ManagerJson.MAPPER.readValue(body, Push.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new ApiException(400, "bad_request", "the push payload is not valid JSON");
        }
    }
}
