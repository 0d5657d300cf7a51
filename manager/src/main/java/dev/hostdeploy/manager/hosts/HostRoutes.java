package dev.hostdeploy.manager.hosts;

import static dev.hostdeploy.manager.http.Route.API;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.manager.agents.AgentRole;
import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.protocol.Validation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** {@code /hosts}: registration, live status, and commands passed through to a host's agents. */
public final class HostRoutes implements RouteGroup {
    private static final Pattern COMMAND = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-zA-Z0-9]*)*");

    private final HostService hosts;

    /** The body of {@code POST /hosts/{id}/agents/{agent}/commands}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record AgentCommand(String command, JsonNode data, Integer timeoutSeconds) {
        AgentCommand {
            Validation.required(command, "command");
            Validation.require(COMMAND.matcher(command).matches(), "command", "must be a command name like firewall.open");
            Validation.require(timeoutSeconds == null || (timeoutSeconds >= 1 && timeoutSeconds <= 3600),
                    "timeoutSeconds", "must be 1-3600");
        }
    }

    /** The agent's result, as {@code {"result": ...}}. */
    record AgentResult(JsonNode result) {
    }

    public HostRoutes(HostService hosts) {
        this.hosts = hosts;
    }

    @Override
    public List<Route> routes() {
        return List.of(
                Route.get(API + "/hosts").doc("listHosts", "Hosts with the live status of their Worker and Guardian")
                        .returns("Host[]").handle(ctx -> ctx.json(hosts.list())),
                Route.post(API + "/hosts")
                        .doc("createHost", "Register a host: its Worker and the Guardian assigned to it, each pinned by fingerprint")
                        .audit("host.create").body("NewHost").returns(201, "Host").handle(ctx -> {
                            Hosts.NewHost req = Requests.body(ctx, Hosts.NewHost.class);
                            Requests.target(ctx, "host/" + req.name());
                            ctx.status(201).json(hosts.create(req));
                        }),
                Route.get(API + "/hosts/{id}").doc("getHost", "One host with live agent status").returns("Host")
                        .handle(ctx -> ctx.json(hosts.get(ctx.pathParam("id")))),
                Route.patch(API + "/hosts/{id}")
                        .doc("updateHost", "Change the address or fingerprint of a host's agents without deleting it; "
                                + "reconnects to them")
                        .audit("host.update").body("HostPatch").returns("Host").handle(ctx -> {
                            Requests.target(ctx, "host/" + ctx.pathParam("id"));
                            Hosts.Host host = hosts.require(ctx.pathParam("id"));
                            Requests.target(ctx, "host/" + host.name());
                            ctx.json(hosts.update(host.id(), Requests.body(ctx, Hosts.HostPatch.class)));
                        }),
                Route.delete(API + "/hosts/{id}")
                        .doc("deleteHost", "Forget a host: disconnects its agents and drops its stored records")
                        .audit("host.delete").noContent().handle(ctx -> {
                            Requests.target(ctx, "host/" + ctx.pathParam("id"));
                            Hosts.Host host = hosts.delete(ctx.pathParam("id"));
                            Requests.target(ctx, "host/" + host.name());
                            ctx.status(204);
                        }),
                Route.post(API + "/hosts/{id}/agents/{agent}/commands")
                        .doc("callAgent", "Send one protocol command to a host's worker or guardian and return its result")
                        .audit("agent.command").body("AgentCommand").returns("AgentResult").handle(ctx -> {
                            Hosts.Host host = hosts.require(ctx.pathParam("id"));
                            AgentRole role = AgentRole.fromWire(ctx.pathParam("agent"));
                            Requests.target(ctx, "host/" + host.name() + "/" + role.wire());
                            AgentCommand req = Requests.body(ctx, AgentCommand.class);
                            Duration timeout = Duration.ofSeconds(req.timeoutSeconds() == null ? 30 : req.timeoutSeconds());
                            Object data = req.data() == null ? Map.of() : req.data();
                            Requests.auditedElsewhere(ctx);
                            String actor = Requests.actor(ctx);
                            String address = ctx.ip();
                            ctx.future(() -> hosts.command(actor, address, host, role, req.command(), data, timeout)
                                    .thenAccept(result -> ctx.json(new AgentResult(result))));
                        }));
    }
}
