package dev.hostdeploy.manager.agents;

/** A host's Worker and the Guardian assigned to it. */
public record HostAgents(String hostId, String hostName, AgentConnection worker, AgentConnection guardian) {
    public AgentConnection agent(AgentRole role) {
        return role == AgentRole.WORKER ? worker : guardian;
    }
}
