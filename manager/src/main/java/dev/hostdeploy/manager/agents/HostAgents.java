package dev.hostdeploy.manager.agents;

/** A host's Worker and the Guardian assigned to it. */
public record HostAgents(String hostId, String hostName, AgentConnection worker, AgentConnection guardian) {
    /** The Worker's commands, typed. */
    public WorkerApi workerApi() {
        return new WorkerApi(new AgentHandle(worker));
    }

    /** The Guardian's commands, typed. */
    public GuardianApi guardianApi() {
        return new GuardianApi(new AgentHandle(guardian));
    }

    public AgentConnection agent(AgentRole role) {
        return role == AgentRole.WORKER ? worker : guardian;
    }
}
