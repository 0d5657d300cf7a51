package dev.hostdeploy.protocol;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/** Maps command names to handlers. An agent registers its commands here before it starts serving. */
public final class HandlerRegistry {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-zA-Z0-9]*)*");

    private final Map<String, Entry> handlers = new ConcurrentHashMap<>();

    record Entry(CommandHandler handler, boolean inline) {
    }

    /** Registers a handler that runs on the agent's worker pool; it may block. */
    public HandlerRegistry register(String command, CommandHandler handler) {
        return put(command, handler, false);
    }

    /**
     * Registers a handler cheap enough to run on the connection's own thread (no blocking, no I/O):
     * it skips the hand-off to the worker pool.
     */
    public HandlerRegistry registerInline(String command, CommandHandler handler) {
        return put(command, handler, true);
    }

    private HandlerRegistry put(String command, CommandHandler handler, boolean inline) {
        if (command == null || !NAME.matcher(command).matches()) {
            throw new IllegalArgumentException("bad command name: " + command);
        }
        if (Frame.RESULT.equals(command) || Frame.ERROR.equals(command)
                || Frame.PROGRESS.equals(command) || Frame.EVENT.equals(command)) {
            throw new IllegalArgumentException("reserved command name: " + command);
        }
        if (handlers.putIfAbsent(command, new Entry(handler, inline)) != null) {
            throw new IllegalStateException("command registered twice: " + command);
        }
        return this;
    }

    Optional<Entry> find(String command) {
        return Optional.ofNullable(handlers.get(command));
    }

    public SortedSet<String> commands() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(handlers.keySet()));
    }
}
