package dev.hostdeploy.manager.agents;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * Live state of one agent connection as the API shows it. {@code protocolVersion} is what the agent's
 * {@code info} reported; {@code protocolMismatch} is true when it is not the Manager's, and then
 * {@code lastError} says which side to upgrade (no command is sent to such an agent).
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record AgentStatus(String address, String fingerprint, boolean connected, Instant lastSeen, String version,
                          Double rttMs, String lastError,
                          String refusedFingerprint, Integer protocolVersion, boolean protocolMismatch) {
}
