package dev.hostdeploy.manager.deployments;

import io.javalin.http.sse.SseClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;

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

    private static final class Channel {
        final List<Line> lines = new ArrayList<>();
        final Set<SseClient> clients = new CopyOnWriteArraySet<>();
    }

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();

    private Channel channel(String deploymentId) {
        return channels.computeIfAbsent(deploymentId, k -> new Channel());
    }

    void began(String deploymentId, String deployId) {
        Channel c = channel(deploymentId);
        synchronized (c) {
            c.lines.clear();
            send(c, "deploy", new Began(deployId));
        }
    }

    void line(String deploymentId, String deployId, String line) {
        Channel c = channel(deploymentId);
        synchronized (c) {
            Line l = new Line(deployId, line);
            if (c.lines.size() < MAX_LINES) {
                c.lines.add(l);
            }
            send(c, "line", l);
        }
    }

    void state(String deploymentId, String state, String commit, String error) {
        Channel c = channel(deploymentId);
        synchronized (c) {
            send(c, "state", new State(state, commit, error));
        }
    }

    /** Replays the current deploy's lines, then follows; under the channel's lock, so nothing is missed or doubled. */
    void subscribe(String deploymentId, SseClient client) {
        Channel c = channel(deploymentId);
        client.onClose(() -> c.clients.remove(client));
        synchronized (c) {
            for (Line l : c.lines) {
                client.sendEvent("line", l);
            }
            c.clients.add(client);
        }
    }

    void forget(String deploymentId) {
        Channel c = channels.remove(deploymentId);
        if (c != null) {
            c.clients.forEach(SseClient::close);
        }
    }

    private static void send(Channel c, String event, Object data) {
        for (SseClient client : c.clients) {
            if (client.terminated()) {
                c.clients.remove(client);
            } else {
                client.sendEvent(event, data);
            }
        }
    }
}
