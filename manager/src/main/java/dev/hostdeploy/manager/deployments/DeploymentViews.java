package dev.hostdeploy.manager.deployments;

import dev.hostdeploy.manager.deployments.DeploymentService.DeployKeyView;
import dev.hostdeploy.manager.deployments.DeploymentService.DeploymentView;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.hosts.HostService;
import dev.hostdeploy.manager.ingress.Domains;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.jobs.Deploys;
import java.util.List;
import java.util.Map;

/**
 * How a deployment reads in the API: the stored record joined with its host's name, its domains and its
 * last deploy, and never a secret (env values and the private deploy key stay sealed in the record; only
 * the variables' names and the key's public half are shown). One place, so every route shows the same.
 */
final class DeploymentViews {
    private final HostService hosts;
    private final Deploys deploys;
    private final IngressService ingress;

    DeploymentViews(HostService hosts, Deploys deploys, IngressService ingress) {
        this.hosts = hosts;
        this.deploys = deploys;
        this.ingress = ingress;
    }

    DeploymentView of(Deployment d) {
        return of(d, ingress.claims(d.id()));
    }

    /** Many deployments, their domains read in one query rather than one per deployment. */
    List<DeploymentView> of(List<Deployment> list) {
        Map<String, List<Domains.Claim>> claims = ingress.claimsByDeployment();
        return list.stream().map(d -> of(d, claims.getOrDefault(d.id(), List.of()))).toList();
    }

    private DeploymentView of(Deployment d, List<Domains.Claim> domains) {
        return new DeploymentView(d.id(), d.name(), d.repo(), d.ref(), d.composePath(), hostName(d.hostId()),
                d.hostId(), d.pollInterval(), d.allow(), d.envKeys(), d.state(), d.commit(), d.services(),
                d.openPorts(), deploys.latest(d.id()).orElse(null), d.lastError(), d.createdAt(), d.updatedAt(),
                d.deployKeyPublic() == null ? null : new DeployKeyView(d.deployKeyPublic(), d.deployKeyCreatedAt()),
                domains);
    }

    private String hostName(String hostId) {
        return hosts.list().stream().filter(h -> h.id().equals(hostId)).map(HostService.HostView::name).findFirst()
                .orElse(null);
    }
}
