package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.containers.ContainerOps.get;
import static dev.hostdeploy.manager.containers.ContainerOps.idle;
import static dev.hostdeploy.manager.containers.ContainerOps.interrupted;
import static dev.hostdeploy.manager.agents.AgentErrors.message;
import static dev.hostdeploy.manager.containers.ContainerService.notFound;
import static dev.hostdeploy.manager.containers.ContainerService.owner;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.containers.ContainerApi.DomainView;
import dev.hostdeploy.manager.containers.ContainerApi.NewDomain;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.ingress.Domains.Claim;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.ingress.Hostname;
import dev.hostdeploy.schema.lxc.LxcSchema;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Members' container domains: {@code NAME.SUFFIX} routed through the host's Guardian to a loopback host port
 * the Worker forwards to a port of the container. Off until {@link #configure} gives the ingress.
 */
final class ContainerDomains {
    private final ContainerOps ops;
    private final Containers repo;
    private final AgentRegistry agents;
    private final JobRunner jobs;
    private final HostPorts ports;
    private IngressService ingress;
    private DomainSettings domainSettings = DomainSettings.off();

    ContainerDomains(ContainerOps ops) {
        this.ops = ops;
        this.repo = ops.repo;
        this.agents = ops.agents;
        this.jobs = ops.jobs;
        this.ports = new HostPorts(ops);
    }

    void configure(IngressService ingress, DomainSettings settings) {
        this.ingress = ingress;
        this.domainSettings = settings;
    }

    /** How many domains the member's containers have (counted in their quota). */
    long count(String userId) {
        long domains = 0;
        if (ingress != null) {
            for (Container c : repo.byOwner(userId)) {
                domains += ingress.containerClaims(c.id()).size();
            }
        }
        return domains;
    }

    int maxDomains() {
        return domainSettings.maxDomains();
    }

    /**
     * Routes {@code NAME.SUFFIX} to a port of the container, as a recorded operation: the hostname is
     * claimed (409 when a deployment or another container holds it; counted in the member's quota), a
     * loopback host port of {@code --member-http-port-range} is given out and the Worker forwards it to the
     * container port (an LXD proxy device), then the host's Guardian routes the hostname to it through
     * Caddy under the owner {@code container/ID}. A failure undoes each step done, in reverse.
     */
    CompletableFuture<DomainView> addDomain(Placement placement, Caller caller, String id, NewDomain req,
                                            String actor) {
        String host = hostname(req.name());
        Container c = idle(ops.visible(caller, id));
        return jobs.call(c.id(), () -> {
            Operation op = ops.begin(c, "domain-add", actor);
            try {
                synchronized (placement.lock) {
                    placement.checkDomain(c.ownerId());
                    ingress.claimForContainer(host, c.id(), owner(c), c.hostId(), req.port());
                }
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
            ops.note(c.id(), op.id(), "domain: claimed " + host + " for container port " + req.port());
            try {
                int hostPort = exposePort(c, op.id(), host, req.port());
                String upstream = "127.0.0.1:" + hostPort;
                unchecked(() -> ingress.route(host, upstream));
                ops.note(c.id(), op.id(), "ingress: " + host + " -> " + upstream);
                ingress.pending(host, false);
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return domainView(ingress.claim(host).orElseThrow());
            } catch (RuntimeException e) {
                if (jobs.closing() || interrupted(e)) {
                    Thread.currentThread().interrupt(); // left pending: the next start removes it
                    throw e;
                }
                ops.note(c.id(), op.id(), "failed: " + message(e) + "; rolling back");
                try {
                    removeDomainSteps(c, ingress.claim(host).orElse(null), op.id());
                    repo.end(op.id(), Containers.OP_ROLLED_BACK, message(e));
                } catch (RuntimeException r) {
                    ops.note(c.id(), op.id(), "rollback incomplete, retried at the next start: " + message(r));
                    repo.end(op.id(), Containers.OP_FAILED, message(e) + "; rollback incomplete: " + message(r));
                }
                throw e;
            }
        });
    }

    List<DomainView> domains(Caller caller, String id) {
        Container c = ops.visible(caller, id);
        return ingress == null ? List.of() : ingress.containerClaims(c.id()).stream().map(this::domainView).toList();
    }

    /** Removes the container's domain: its route, the port forward, the host port and the claim. */
    CompletableFuture<Void> removeDomain(Caller caller, String id, String name, String actor) {
        Container c = ops.visible(caller, id);
        String host = hostname(new NewDomain(name, 1).name());
        Claim claim = ingress.claim(host).filter(d -> c.id().equals(d.containerId()))
                .orElseThrow(() -> ProtocolException.notFound("the container has no domain " + host));
        return jobs.call(c.id(), () -> {
            Operation op = ops.begin(c, "domain-remove", actor);
            try {
                removeDomainSteps(c, claim, op.id());
                repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                return null;
            } catch (RuntimeException e) {
                repo.end(op.id(), Containers.OP_FAILED, message(e));
                throw e;
            }
        });
    }

    private String hostname(String name) {
        if (ingress == null || domainSettings.suffix() == null) {
            throw ProtocolException.conflict("members' domains are off: this Manager has no --member-domain-suffix");
        }
        return Hostname.parse("name", name + "." + domainSettings.suffix());
    }

    /**
     * Gives the domain a loopback host port and has the Worker forward it to the container port, skipping a
     * port of the range some host process holds ({@link HostPorts}).
     */
    private int exposePort(Container c, String opId, String host, int containerPort) {
        return ports.bind(c, opId, domainSettings.portMin(), domainSettings.portMax(),
                hostPort -> ingress.containerHostPort(host, hostPort), hostPort -> {
                    get(agents.worker(c.hostId()).lxcPortExpose(new LxcSchema.PortExposeRequest(c.instance(),
                            containerPort, hostPort, "127.0.0.1")));
                    ops.note(c.id(), opId, "lxc: 127.0.0.1:" + hostPort + " forwarded to container port " + containerPort);
                    return hostPort;
                }).port();
    }

    /** Undoes a domain, each step whether or not it was reached: route, port forward, host port, claim. */
    private void removeDomainSteps(Container c, Claim d, String opId) {
        if (d == null) {
            return;
        }
        ingress.pending(d.host(), true);
        unchecked(() -> ingress.unroute(d.hostId(), d.host(), Owner.of(d.owner())));
        ops.note(c.id(), opId, "ingress: " + d.host() + " removed");
        if (d.hostPort() != null) {
            try {
                get(agents.worker(c.hostId()).lxcPortUnexpose(new LxcSchema.PortUnexposeRequest(c.instance(),
                        d.hostPort())));
                ops.note(c.id(), opId, "lxc: port " + d.hostPort() + " no longer forwarded");
            } catch (RuntimeException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            repo.freePort(c.hostId(), d.hostPort());
        }
        ingress.releaseClaim(d.host());
        ops.note(c.id(), opId, "domain: " + d.host() + " released");
    }

    /**
     * A snapshot or backup brings back the devices the container had then: each domain's port forward is
     * put back as the claims say (a forward the claims no longer have, left by the old devices, only holds a
     * loopback port the allocator then skips).
     */
    void reexposeDomains(Container c, String opId) {
        if (ingress == null) {
            return;
        }
        for (Claim d : ingress.containerClaims(c.id())) {
            if (d.hostPort() != null && !d.pending()) {
                get(agents.worker(c.hostId()).lxcPortExpose(new LxcSchema.PortExposeRequest(c.instance(), d.port(),
                        d.hostPort(), "127.0.0.1")));
                ops.note(c.id(), opId, "lxc: 127.0.0.1:" + d.hostPort() + " forwarded again to container port " + d.port());
            }
        }
    }

    /** The container's routes go with it (its claims are released once the container is gone). */
    void unrouteAll(Container c, String opId) {
        if (ingress == null) {
            return;
        }
        for (Claim d : ingress.containerClaims(c.id())) {
            unchecked(() -> ingress.unroute(d.hostId(), d.host(), Owner.of(d.owner())));
            ops.note(c.id(), opId, "ingress: " + d.host() + " removed");
        }
    }

    private DomainView domainView(Claim d) {
        String suffix = domainSettings.suffix();
        String name = suffix != null && d.host().endsWith("." + suffix)
                ? d.host().substring(0, d.host().length() - suffix.length() - 1) : d.host();
        return new DomainView(name, d.host(), d.port(), ("off".equals(d.tls()) ? "http://" : "https://") + d.host(),
                d.tls(), d.pending(), d.createdAt());
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void unchecked(Step step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        } catch (Exception e) {
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw c instanceof RuntimeException r ? r : new CompletionException(c);
        }
    }

    /**
     * A member left: each domain of the container is removed (a failure is noted and the rest go on).
     * Returns the last failure, or null.
     */
    String offboard(Container c, String opId) {
        String error = null;
        if (ingress != null) {
            for (Claim d : ingress.containerClaims(c.id())) {
                try {
                    removeDomainSteps(c, d, opId);
                } catch (RuntimeException e) {
                    error = "the domain " + d.host() + " could not be removed yet: " + message(e);
                    ops.note(c.id(), opId, error);
                }
            }
        }
        return error;
    }

    /** Once the container (and its proxy devices) is gone: its claims are released. */
    void releaseAll(String containerId) {
        if (ingress != null) {
            ingress.containerClaims(containerId).forEach(d -> ingress.releaseClaim(d.host()));
        }
    }

    /** A domain an interrupted operation left pending is removed, route, forward, port and claim. */
    void recoverDomains(Duration wait) {
        if (ingress == null) {
            return;
        }
        for (Claim d : ingress.pendingContainerClaims()) {
            Container c = repo.find(d.containerId()).orElse(null);
            if (c == null) {
                ingress.releaseClaim(d.host()); // the container's delete released its ports
                continue;
            }
            Operation op = ops.begin(c, "domain-remove", "recovery");
            ops.note(c.id(), op.id(), "the Manager restarted while " + d.host() + " was being changed: removing it");
            jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
                if (!ops.awaitAgents(c.hostId(), wait)) {
                    repo.end(op.id(), Containers.OP_FAILED, "the host's agents did not connect; retried at the next start");
                    return;
                }
                try {
                    removeDomainSteps(c, d, op.id());
                    repo.end(op.id(), Containers.OP_SUCCEEDED, null);
                } catch (RuntimeException e) {
                    repo.end(op.id(), Containers.OP_FAILED, message(e));
                }
            });
        }
    }
}
