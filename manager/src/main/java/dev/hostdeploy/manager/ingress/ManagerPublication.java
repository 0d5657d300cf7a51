package dev.hostdeploy.manager.ingress;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.schema.ingress.Hostname;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Manager's own API and console published through its host's Caddy ({@code --publish-on-host},
 * {@code --public-url}): the hostname claimed like a deployment's, under the owner {@code manager/api},
 * on the host named, once that host's Guardian connects (its routes are then set from the claims). Apart
 * from the deployments' and containers' claims because it follows the Manager's options, not a request.
 */
final class ManagerPublication {
    private static final Logger LOG = LoggerFactory.getLogger(ManagerPublication.class);

    /** Where the Manager publishes itself: the host (id or name), the hostname and the upstream Caddy dials. */
    private record Published(String hostRef, String host, String upstream) {
    }

    private final Domains domains;
    private final AgentRegistry agents;
    private final String tls;
    private volatile Published published;

    ManagerPublication(Domains domains, AgentRegistry agents, String tls) {
        this.domains = domains;
        this.agents = agents;
        this.tls = tls;
    }

    /**
     * Publishes the Manager at {@code publicUrl}'s hostname through the Caddy of the host {@code hostRef}
     * (id or name), to {@code upstream}. A null {@code hostRef} drops an earlier publication: its claim goes
     * now, its route at the Guardian's next reconnect.
     */
    void publish(String hostRef, URI publicUrl, String upstream) {
        Published p = hostRef == null ? null
                : new Published(hostRef, Hostname.parse("--public-url", publicUrl.getHost()), upstream);
        for (Claim c : domains.byOwner(IngressService.MANAGER_OWNER.toString())) {
            if (p == null || !c.host().equals(p.host())) {
                domains.release(c.host());
            }
        }
        published = p;
    }

    /** Claims (or moves) the Manager's hostname to this host when it is the one to publish on. */
    void claim(String hostId) {
        Published p = published;
        if (p == null) {
            return;
        }
        String name = agents.get(hostId).map(HostAgents::hostName).orElse(null);
        if (!p.hostRef().equals(hostId) && !p.hostRef().equals(name)) {
            return;
        }
        String owner = IngressService.MANAGER_OWNER.toString();
        Claim held = domains.find(p.host()).orElse(null);
        if (held == null) {
            domains.claimRoute(p.host(), owner, hostId, p.upstream(), tls);
        } else if (held.owner().equals(owner)) {
            if (!hostId.equals(held.hostId()) || !p.upstream().equals(held.upstream()) || !tls.equals(held.tls())) {
                domains.move(p.host(), hostId, p.upstream(), tls);
            }
        } else {
            LOG.error("--public-url {}: the hostname is claimed by {}; the Manager is not published there",
                    p.host(), held.owner());
            return;
        }
        LOG.info("publishing the Manager at https://{} through host {} -> {}", p.host(), name, p.upstream());
    }
}
