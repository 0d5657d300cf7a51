package dev.hostdeploy.manager.agents;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * One agent of one host as feature code sees it: a command with a request record in, a result record
 * out, never a frame. Typed methods per command (deploySync, lxcCreate, ...) are meant to sit on top of
 * {@link #call}, taking their names and records from the schema module.
 */
public final class AgentHandle {
    private final AgentConnection connection;

    AgentHandle(AgentConnection connection) {
        this.connection = connection;
    }

    public AgentRole role() {
        return connection.role();
    }

    public String hostName() {
        return connection.hostName();
    }

    public boolean connected() {
        return connection.connected();
    }

    /** Whether the agent said on its current connection ({@code info}) that it serves {@code command}. */
    public boolean serves(String command) {
        dev.hostdeploy.protocol.AgentInfo info = connection.info();
        return info != null && info.commands().contains(command);
    }

    /** A quick command with the connection's default timeout and no progress. */
    public <R> CompletableFuture<R> call(String command, Object request, Class<R> resultType) {
        return call(command, request, resultType, connection.callTimeout(), null);
    }

    /**
     * A long command whose progress frames are read as {@code progressType}; a progress frame that does
     * not bind is dropped (progress is informational, the result decides).
     */
    public <R, P> CompletableFuture<R> call(String command, Object request, Class<R> resultType, Duration timeout,
                                            Class<P> progressType, Consumer<P> progress) {
        Consumer<JsonNode> raw = progress == null ? null : node -> {
            P p;
            try {
                p = ManagerJson.MAPPER.treeToValue(node, progressType);
            } catch (JsonProcessingException | IllegalArgumentException e) {
                return;
            }
            progress.accept(p);
        };
        return call(command, request, resultType, timeout, raw);
    }

    /**
     * Sends {@code command} with {@code request} serialized as its data, and reads the result as
     * {@code resultType}; a result that does not bind fails with {@code internal} naming the command.
     *
     * @param progress called with each progress event the agent sends, or null
     */
    public <R> CompletableFuture<R> call(String command, Object request, Class<R> resultType, Duration timeout,
                                         Consumer<JsonNode> progress) {
        return connection.call(command, request, timeout, progress).thenApply(result -> read(command, result, resultType));
    }

    private static <R> R read(String command, JsonNode result, Class<R> type) {
        if (type == JsonNode.class) {
            return type.cast(result);
        }
        try {
            return ManagerJson.MAPPER.treeToValue(result, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new CompletionException(new AgentCallException(ErrorData.of(ErrorCode.INTERNAL,
                    "the agent's " + command + " result did not match " + type.getSimpleName() + ": "
                            + e.getMessage(), null)));
        }
    }
}
