package dev.hostdeploy.manager.containers;

import io.javalin.http.sse.SseClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * The live side of {@code GET /containers/{id}/events}: each operation's start ({@code operation}), its
 * steps as they are recorded ({@code step}) and the container's state changes ({@code state}), relayed
 * to Server-Sent Events clients; a client that connects mid-operation first gets its steps so far. In
 * memory only: the recorded operation is the record.
 */
final class ContainerEvents {
    static final int MAX_STEPS = 2000;

    /** {@code event: operation}. */
    record Began(String operation, String kind) {
    }

    /** {@code event: step}. */
    record Step(String operation, String step) {
    }

    /** {@code event: state}. */
    record State(String state, String error) {
    }

    private static final class Channel {
        final List<Step> steps = new ArrayList<>();
        final Set<SseClient> clients = new CopyOnWriteArraySet<>();
    }

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();

    private Channel channel(String containerId) {
        return channels.computeIfAbsent(containerId, k -> new Channel());
    }

    void began(String containerId, String opId, String kind) {
        Channel c = channel(containerId);
        synchronized (c) {
            c.steps.clear();
            send(c, "operation", new Began(opId, kind));
        }
    }

    void step(String containerId, String opId, String step) {
        Channel c = channel(containerId);
        synchronized (c) {
            Step s = new Step(opId, step);
            if (c.steps.size() < MAX_STEPS) {
                c.steps.add(s);
            }
            send(c, "step", s);
        }
    }

    void state(String containerId, String state, String error) {
        Channel c = channel(containerId);
        synchronized (c) {
            send(c, "state", new State(state, error));
        }
    }

    void subscribe(String containerId, SseClient client) {
        Channel c = channel(containerId);
        client.onClose(() -> c.clients.remove(client));
        synchronized (c) {
            for (Step s : c.steps) {
                client.sendEvent("step", s);
            }
            c.clients.add(client);
        }
    }

    /** The container is gone: its followers are told and let go. */
    void forget(String containerId) {
        Channel c = channels.remove(containerId);
        if (c != null) {
            send(c, "state", new State("deleted", null));
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
