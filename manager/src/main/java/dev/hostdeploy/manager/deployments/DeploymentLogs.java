package dev.hostdeploy.manager.deployments;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsResult;
import io.javalin.http.sse.SseClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * The running services' own output ({@code deploy.logs}), once or followed ({@link LogFollower}), with the
 * one timer all followers' polls share. Not the deploys' logs (those are {@code Deploys}): these are read
 * from the Worker on each request and never stored.
 */
final class DeploymentLogs implements AutoCloseable {
    private final Deployments deployments;
    private final AgentRegistry agents;
    private volatile Duration followEvery = Duration.ofSeconds(1);
    /** Schedules the log followers' polls; the polls themselves are asynchronous agent calls. */
    private final ScheduledExecutorService followTimer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "log-follow");
        t.setDaemon(true);
        return t;
    });

    DeploymentLogs(Deployments deployments, AgentRegistry agents) {
        this.deployments = deployments;
        this.agents = agents;
    }

    CompletableFuture<LogsResult> logs(Deployment d, String service, Integer tail, String since) {
        LogsRequest req = new LogsRequest(d.name(), service, tail, since);
        return agents.worker(d.hostId()).deployLogs(req);
    }

    /** Checks the request first (bad input is refused before the stream opens), then gives the follower. */
    Consumer<SseClient> follower(Deployment d, String service, Integer tail, String since) {
        new LogsRequest(d.name(), service, tail, since);
        return client -> LogFollower.follow(client, followTimer, followEvery, next -> {
            Deployment now = deployments.find(d.id()).orElse(null);
            if (now == null) {
                return CompletableFuture.failedFuture(new AgentCallException(ErrorData.of(
                        ErrorCode.NOT_FOUND, "deployment " + d.name() + " was deleted", null)));
            }
            LogsRequest req = next == null ? new LogsRequest(d.name(), service, tail, since)
                    : new LogsRequest(d.name(), service, LogsRequest.MAX_TAIL, next);
            return agents.worker(now.hostId()).deployLogs(req);
        });
    }

    void followEvery(Duration every) {
        this.followEvery = every;
    }

    @Override
    public void close() {
        followTimer.shutdownNow();
    }
}
