package dev.hostdeploy.manager.http;

import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;

/**
 * Server-Sent Events of one feature's things (a deployment, a container), keyed by the thing's id: each
 * key's current run (a deploy, an operation) keeps its opening event and its progress events for replay,
 * so a client that connects mid-run (or just after it) first gets the run so far, starting with which run
 * it is. In memory only: the feature's stored record is the record.
 */
public final class SseHub {
    private final String progressEvent;
    private final int maxReplay;
    private final Map<String, Channel> channels = new ConcurrentHashMap<>();

    private static final class Channel {
        String beganEvent;
        Object beganData;
        final List<Object> replay = new ArrayList<>();
        final Set<SseClient> clients = new CopyOnWriteArraySet<>();
    }

    /**
     * @param progressEvent the event name of a run's progress (replayed to late clients)
     * @param maxReplay at most this many progress events are kept per run (later ones are still sent live)
     */
    public SseHub(String progressEvent, int maxReplay) {
        this.progressEvent = progressEvent;
        this.maxReplay = maxReplay;
    }

    private Channel channel(String key) {
        return channels.computeIfAbsent(key, k -> new Channel());
    }

    /** A new run began: its replay starts empty, and followers are told with {@code event}. */
    public void began(String key, String event, Object data) {
        Channel c = channel(key);
        synchronized (c) {
            c.replay.clear();
            c.beganEvent = event;
            c.beganData = data;
            send(c, event, data);
        }
    }

    /** One progress event of the current run, kept for replay and sent to the followers. */
    public void progress(String key, Object data) {
        Channel c = channel(key);
        synchronized (c) {
            if (c.replay.size() < maxReplay) {
                c.replay.add(data);
            }
            send(c, progressEvent, data);
        }
    }

    /** An event that is not replayed (a state change). */
    public void send(String key, String event, Object data) {
        Channel c = channel(key);
        synchronized (c) {
            send(c, event, data);
        }
    }

    /** Replays the current run's opening and progress, then follows; under the channel's lock, so nothing is missed or doubled. */
    public void subscribe(String key, SseClient client) {
        Channel c = channel(key);
        client.onClose(() -> c.clients.remove(client));
        synchronized (c) {
            if (c.beganEvent != null) {
                client.sendEvent(c.beganEvent, c.beganData);
            }
            for (Object data : c.replay) {
                client.sendEvent(progressEvent, data);
            }
            c.clients.add(client);
        }
    }

    /** The thing is gone: its followers get a last {@code event} (unless null) and are let go. */
    public void forget(String key, String event, Object data) {
        Channel c = channels.remove(key);
        if (c != null) {
            if (event != null) {
                send(c, event, data);
            }
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

    /**
     * Answers the request as an event stream handed to {@code follow}; kept open until the client leaves.
     * Checks come first, so a bad request (wrong Accept, unknown thing) is an ordinary error reply.
     */
    public static void open(Context ctx, Consumer<SseClient> follow) {
        if (!"text/event-stream".equals(ctx.header("Accept"))) {
            throw new ApiException(406, "not_acceptable", "an event stream: send Accept: text/event-stream");
        }
        new SseHandler(client -> {
            client.keepAlive();
            follow.accept(client);
        }).handle(ctx);
    }
}
