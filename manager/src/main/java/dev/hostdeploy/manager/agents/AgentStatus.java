package dev.hostdeploy.manager.agents;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/** Live state of one agent connection as the API shows it. */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record AgentStatus(String address, String fingerprint, boolean connected, Instant lastSeen, String version,
                          Double rttMs, String lastError,
                          String refusedFingerprint) {
}
