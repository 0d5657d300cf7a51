package dev.hostdeploy.manager.containers;

import dev.hostdeploy.manager.deployments.FirewallReconciler;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.List;

/**
 * The containers' part of each Guardian's desired state, for the {@link FirewallReconciler}: the SSH
 * port of every container whose port is open, under its owner {@code container/ID}. Kept apart from
 * the facade because the reconciler reads it on its own schedule and needs nothing else of the feature.
 */
final class ContainerFirewallRules implements FirewallReconciler.PortSource {
    private final Containers repo;
    private final JobRunner jobs;

    ContainerFirewallRules(Containers repo, JobRunner jobs) {
        this.repo = repo;
        this.jobs = jobs;
    }

    @Override
    public String ownerKind() {
        return ContainerService.OWNER_KIND;
    }

    @Override
    public List<RuleData> rules(String hostId) {
        return repo.byHost(hostId).stream().filter(c -> c.portOpen() && c.sshPort() != null)
                .map(c -> RuleData.port(Proto.TCP, c.sshPort(), ContainerService.owner(c))).toList();
    }

    /** A job in progress may have opened a port it has not recorded yet: its openings are left alone. */
    @Override
    public boolean busy(Owner owner) {
        return jobs.busy(owner.name());
    }
}
