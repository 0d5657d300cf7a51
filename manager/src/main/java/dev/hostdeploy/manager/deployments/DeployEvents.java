package dev.hostdeploy.manager.deployments;

import dev.hostdeploy.manager.http.SseHub;
import io.javalin.http.sse.SseClient;

/**
 * The live side of {@code GET /deployments/{name}/events}: the running deploy's progress lines and the
 * deployment's state changes, relayed to Server-Sent Events clients. A client that connects mid-deploy
 * first gets the lines so far. In memory only: the stored deploy log is the record.
 */
final class DeployEvents {
    static final int MAX_LINES = 5000;

    /** {@code event: deploy}: a deploy began. */
    record Began(String deploy) {
    }

    /** {@code event: line}: one progress line of a deploy. */
    record Line(String deploy, String line) {
    }

    /** {@code event: state}: the deployment's new state. */
    record State(String state, String commit, String error) {
    }

    private final SseHub hub = new SseHub("line", MAX_LINES);

    void began(String deploymentId, String deployId) {
        hub.began(deploymentId, "deploy", new Began(deployId));
    }

    void line(String deploymentId, String deployId, String line) {
        hub.progress(deploymentId, new Line(deployId, line));
    }

    void state(String deploymentId, String state, String commit, String error) {
        hub.send(deploymentId, "state", new State(state, commit, error));
    }

    void subscribe(String deploymentId, SseClient client) {
        hub.subscribe(deploymentId, client);
    }

    void forget(String deploymentId) {
        hub.forget(deploymentId, null, null);
    }
}
