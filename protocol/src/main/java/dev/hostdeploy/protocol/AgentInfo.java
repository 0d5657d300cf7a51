package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.SortedSet;

/**
 * The built-in {@code info} command's result: what the agent is and which commands it serves. The
 * client asks for it first on every connection, before it counts itself connected. {@code details} is
 * what the agent's own modules say about it (e.g. the Worker's allowed images, typed in the schema
 * module); opaque to the protocol, null when the agent has nothing to say.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AgentInfo(String kind, String version, String hostname, int protocolVersion, String fingerprint,
                        SortedSet<String> commands, com.fasterxml.jackson.databind.JsonNode details) {
    public static final String COMMAND = "info";

    public AgentInfo(String kind, String version, String hostname, int protocolVersion, String fingerprint,
                     SortedSet<String> commands) {
        this(kind, version, hostname, protocolVersion, fingerprint, commands, null);
    }

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
