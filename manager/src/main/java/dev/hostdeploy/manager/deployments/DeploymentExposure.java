package dev.hostdeploy.manager.deployments;

import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianApi;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.deployments.Deployments.OpenPort;
import dev.hostdeploy.manager.ingress.IngressService;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What a deployment exposes on its host, brought in line with the services it runs now: the ports they
 * publish on all interfaces, opened at the host's Guardian, and its domains' routes, set through the
 * ingress. Every path that changes what runs (a deploy, a recovered deploy, start, stop) goes through
 * here, so none of them forgets one side. An agent that cannot be reached leaves the difference for later
 * (the next deploy, the Guardian's reconnect); what runs stands.
 */
final class DeploymentExposure {
    private final Deployments deployments;
    private final AgentRegistry agents;
    private final IngressService ingress;

    DeploymentExposure(Deployments deployments, AgentRegistry agents, IngressService ingress) {
        this.deployments = deployments;
        this.agents = agents;
        this.ingress = ingress;
    }

    /** The services now running: their ports opened (others closed), the domains routed to them. */
    void running(String id, List<DeploySchema.Service> services, Consumer<String> note) {
        ports(id, services, note);
        ingress.sync(id, services).forEach(note);
    }

    /** The services stopped: their ports closed and the domains' routes removed (the hostnames stay claimed). */
    void stopped(Deployment d, Consumer<String> note) {
        ports(d.id(), List.of(), note);
        ingress.suspend(d.id(), d.hostId(), DeploymentService.owner(d)).forEach(note);
    }

    /** Points the deployment's domains at the ports the services publish (none when it is stopped). */
    void routes(String id, List<DeploySchema.Service> services, Consumer<String> note) {
        ingress.sync(id, services).forEach(note);
    }

    /**
     * Opens at the Guardian the ports now published on all interfaces and closes those no longer
     * published; records what is open.
     */
    private void ports(String id, List<DeploySchema.Service> services, Consumer<String> note) {
        Deployment d = deployments.require(id);
        Set<OpenPort> want = published(services);
        List<OpenPort> open = new ArrayList<>(d.openPorts());
        try {
            GuardianApi guardian = agents.guardian(d.hostId());
            for (OpenPort p : want) {
                if (!open.contains(p)) {
                    guardian.open(rule(d, p)).get();
                    open.add(p);
                    note.accept("ports: opened " + p.protocol() + " " + p.port());
                }
            }
            for (OpenPort p : List.copyOf(open)) {
                if (!want.contains(p)) {
                    guardian.close(Close.of(rule(d, p))).get();
                    open.remove(p);
                    note.accept("ports: closed " + p.protocol() + " " + p.port());
                }
            }
        } catch (Exception e) {
            note.accept("ports: the guardian could not be updated: " + message(e));
        }
        deployments.openPorts(id, open);
    }

    /** Ports published on all interfaces; those bound to one address (127.0.0.1) stay off the firewall. */
    static Set<OpenPort> published(List<DeploySchema.Service> services) {
        Set<OpenPort> out = new LinkedHashSet<>();
        for (DeploySchema.Service s : services) {
            for (DeploySchema.Port p : s.ports()) {
                String ip = p.hostIp();
                boolean everywhere = ip == null || ip.isEmpty() || ip.equals("0.0.0.0") || ip.equals("::");
                String proto = p.protocol() == null ? "tcp" : p.protocol();
                if (p.hostPort() != null && p.hostPort() > 0 && everywhere && (proto.equals("tcp") || proto.equals("udp"))) {
                    out.add(new OpenPort(proto, p.hostPort()));
                }
            }
        }
        return out;
    }

    private static RuleData rule(Deployment d, OpenPort p) {
        return RuleData.port(Proto.parse("protocol", p.protocol()), p.port(), DeploymentService.owner(d));
    }
}
