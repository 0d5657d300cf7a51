package dev.hostdeploy.manager.containers;

import dev.hostdeploy.manager.http.SseHub;
import io.javalin.http.sse.SseClient;

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

    private final SseHub hub = new SseHub("step", MAX_STEPS);

    void began(String containerId, String opId, String kind) {
        hub.began(containerId, "operation", new Began(opId, kind));
    }

    void step(String containerId, String opId, String step) {
        hub.progress(containerId, new Step(opId, step));
    }

    void state(String containerId, String state, String error) {
        hub.send(containerId, "state", new State(state, error));
    }

    void subscribe(String containerId, SseClient client) {
        hub.subscribe(containerId, client);
    }

    /** The container is gone: its followers are told and let go. */
    void forget(String containerId) {
        hub.forget(containerId, "state", new State("deleted", null));
    }
}
