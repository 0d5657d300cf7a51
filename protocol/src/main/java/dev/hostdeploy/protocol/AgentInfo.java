package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.SortedSet;

/**
 * The built-in {@code info} command's result: what the agent is and which commands it serves. The
 * client asks for it first on every connection, before it counts itself connected.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AgentInfo(String kind, String version, String hostname, int protocolVersion, String fingerprint,
                        SortedSet<String> commands) {
    public static final String COMMAND = "info";

    public AgentInfo {
        commands = commands == null ? new java.util.TreeSet<>() : java.util.Collections.unmodifiableSortedSet(
                new java.util.TreeSet<>(commands));
    }

    /** The built-in {@code ping} command's result: the agent's clock in epoch milliseconds. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Pong(long time) {
        public static final String COMMAND = "ping";
    }
}
