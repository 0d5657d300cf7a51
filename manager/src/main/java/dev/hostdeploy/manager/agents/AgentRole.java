package dev.hostdeploy.manager.agents;

import dev.hostdeploy.protocol.ProtocolException;
import java.util.Locale;

/** Which of a host's two agents. */
public enum AgentRole {
    WORKER, GUARDIAN;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static AgentRole fromWire(String s) {
        for (AgentRole r : values()) {
            if (r.wire().equals(s)) {
                return r;
            }
        }
        throw ProtocolException.invalid("agent", "must be worker or guardian");
    }
}
